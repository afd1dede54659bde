#include "sim/check/history.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {
namespace {

int64_t BucketOf(int64_t offset) {
  return offset >= 0 ? offset / History::kBucketOffsets : -1;
}

// The first claim on each offset of a range: dense when the offsets are (a bucket, or a
// partition's live offsets), a map otherwise.
class FirstClaims {
 public:
  FirstClaims(int64_t lo, int64_t hi, size_t claims) {
    const int64_t span = hi - lo + 1;
    dense_ = span > 0 && span <= static_cast<int64_t>(8 * claims + 4096);
    if (dense_) {
      base_ = lo;
      claims_.resize(static_cast<size_t>(span));
    }
  }
  // The first claim on `offset`, after recording `c` if it is the first.
  const Claim& See(int64_t offset, const Claim& c) {
    if (!dense_) return sparse_.emplace(offset, c).first->second;
    Claim& slot = claims_[static_cast<size_t>(offset - base_)];
    if (slot.record == 0) slot = c;
    return slot;
  }

 private:
  bool dense_ = false;
  int64_t base_ = 0;
  std::vector<Claim> claims_;
  std::map<int64_t, Claim> sparse_;
};

}  // namespace

NameId History::Intern(std::string_view s) {
  auto it = name_ids_.find(s);
  if (it != name_ids_.end()) return it->second;
  const NameId id = static_cast<NameId>(names_.size());
  names_.emplace_back(s);
  name_ids_.emplace(std::string(s), id);
  return id;
}

std::optional<NameId> History::FindName(std::string_view s) const {
  auto it = name_ids_.find(s);
  if (it == name_ids_.end()) return std::nullopt;
  return it->second;
}

PartId History::InternPart(const TopicPartition& tp) {
  if (last_part_ != kNoPart && parts_[last_part_].tp == tp) return last_part_;
  auto it = part_ids_.find(tp);
  if (it != part_ids_.end()) return last_part_ = it->second;
  const PartId id = static_cast<PartId>(parts_.size());
  KSIM_CHECK(id != kNoPart);
  PartState ps;
  ps.tp = tp;
  ps.topic = Intern(tp.topic);
  parts_.push_back(std::move(ps));
  part_ids_.emplace(tp, id);
  return last_part_ = id;
}

const TopicPartition& History::tp(PartId p) const {
  static const TopicPartition kNone;
  return p == kNoPart ? kNone : parts_.at(p).tp;
}

PartId History::FindPart(const TopicPartition& tp) const {
  auto it = part_ids_.find(tp);
  return it == part_ids_.end() ? kNoPart : it->second;
}

KeyId History::InternKey(const std::string& key) {
  auto it = key_ids_.find(key);
  if (it != key_ids_.end()) return it->second;
  const KeyId id = static_cast<KeyId>(keys_.size());
  keys_.push_back(key);
  key_ids_.emplace(key, id);
  return id;
}

void History::RecordSend(std::string_view producer, RecordId record) {
  std::deque<PendingSend>& sends = producers_[Intern(producer)].sends;
  // Record ids increase in send order; a record sent again keeps its first place.
  if (!sends.empty() && record <= sends.back().record) return;
  sends.push_back(PendingSend{record});
}

void History::CheckOrder(NameId producer, const PendingSend& a,
                         std::map<std::pair<NameId, PartId>, Last>& last,
                         std::vector<OrderViolation>* out) {
  auto [it, inserted] = last.try_emplace({producer, a.part}, Last{a.record, a.offset});
  if (inserted) return;
  if (a.offset <= it->second.offset) {
    out->push_back(OrderViolation{producer, a.part, a.record, a.offset, a.time,
                                  it->second.record, it->second.offset});
  }
  it->second = Last{a.record, a.offset};
}

// Acknowledgements are compared in send (record id) order once every earlier send of the
// producer has completed: a later completion can no longer slip in between.
void History::OrderCompleted(NameId producer, ProducerState& ps) {
  while (!ps.sends.empty() && ps.sends.front().done) {
    if (ps.sends.front().ordered) {
      CheckOrder(producer, ps.sends.front(), producer_last_, &order_violations_);
    }
    ps.sends.pop_front();
  }
}

std::vector<OrderViolation> History::OrderViolations() const {
  std::vector<OrderViolation> out = order_violations_;
  auto last = producer_last_;
  for (const auto& [producer, ps] : producers_) {
    for (const PendingSend& send : ps.sends) {
      if (send.ordered) CheckOrder(producer, send, last, &out);
    }
  }
  return out;
}

History::Bucket& History::BucketFor(PartState& ps, int64_t offset) {
  const int64_t index = BucketOf(offset);
  if (ps.hot == nullptr || ps.hot_index != index) {
    ps.hot = &ps.buckets[index];
    ps.hot_index = index;
  }
  return *ps.hot;
}

void History::RecordAck(const AckEvent& e) {
  AckOp a;
  a.time = e.time;
  a.record = e.record;
  a.offset = e.offset;
  a.seq = ack_seq_++;
  a.producer = Intern(e.producer);
  a.part = e.tp.topic.empty() ? kNoPart : InternPart(e.tp);
  a.error = e.error;
  a.acks_zero = e.acks_zero;
  a.compacted = e.compacted;
  if (e.compacted && e.key.has_value()) a.key = InternKey(*e.key);
  // Send order: only records this producer sent take part (first completion only).
  if (auto prod = producers_.find(a.producer); prod != producers_.end()) {
    std::deque<PendingSend>& sends = prod->second.sends;
    auto it = std::lower_bound(sends.begin(), sends.end(), a.record,
                               [](const PendingSend& x, RecordId r) { return x.record < r; });
    if (it != sends.end() && it->record == a.record && !it->done) {
      it->done = true;
      it->ordered = a.ok() && a.part != kNoPart;
      it->part = a.part;
      it->offset = a.offset;
      it->time = a.time;
      OrderCompleted(a.producer, prod->second);
    }
  }
  if (a.part != kNoPart && a.compacted) parts_[a.part].compacted = true;
  if (!a.ok() || a.offset < 0 || a.part == kNoPart) {
    // A failed send promised nothing; only its key can matter (a stored one may supersede).
    // acks=0 successes count for no-lost-writes; they have no offset and are never retired.
    if (a.error == Error::kNone || a.key != kNoKey) {
      unplaced_acks_.push_back(a);
      ++live_ops_;
    }
    return;
  }
  PartState& ps = parts_[a.part];
  if (a.offset < ps.retired_below) ++late_ops_;
  BucketFor(ps, a.offset).acks.push_back(a);
  ++live_ops_;
}

void History::RecordPoll(const PollEvent& e) {
  PollOp p;
  p.time = e.time;
  p.record = e.record;
  p.offset = e.offset;
  p.seq = poll_seq_++;
  p.consumer = Intern(e.consumer);
  p.group = Intern(e.group);
  p.generation = e.generation;
  p.part = InternPart(e.tp);
  PartState& ps = parts_[p.part];
  group_topics_[p.group].insert(ps.topic);
  // Offsets increase within a consumer's generation and skip nothing.
  auto [it, first] = consumer_last_.try_emplace({p.consumer, p.generation, p.part},
                                                Last{p.record, p.offset});
  if (!first) {
    const PollStep step{p.seq, p.time, p.consumer, p.part, p.offset, p.record, it->second.offset};
    if (p.offset <= it->second.offset) {
      nonmonotonic_.push_back(step);
    } else if (p.offset > it->second.offset + 1) {
      ps.gaps.push_back(step);
    }
    it->second = Last{p.record, p.offset};
  }
  // A retired record polled late is consumed after all.
  if (auto u = unconsumed_.find(p.group); u != unconsumed_.end()) u->second.erase(p.record);
  if (p.offset < ps.retired_below) ++late_ops_;
  BucketFor(ps, p.offset).polls.push_back(p);
  ++live_ops_;
}

void History::RecordCommit(TimeNs time, std::string_view /*consumer*/, std::string_view group,
                           int32_t generation, const TopicPartition& tp, int64_t offset,
                           bool ok) {
  if (!ok) return;
  const NameId g = Intern(group);
  const PartId part = InternPart(tp);
  auto [it, first] = commit_last_.try_emplace({g, generation, part}, offset);
  if (first) return;
  if (offset < it->second) {
    commits_bad_.push_back(CommitViolation{time, g, generation, part, offset, it->second});
  }
  it->second = offset;
}

void History::RecordAssignment(TimeNs time, std::string_view group, int32_t generation,
                               std::string_view member,
                               const std::vector<TopicPartition>& parts) {
  AssignmentOp a;
  a.time = time;
  a.group = Intern(group);
  a.generation = generation;
  a.member = Intern(member);
  std::set<NameId>& topics = group_topics_[a.group];
  for (const TopicPartition& tp : parts) {
    const PartId part = InternPart(tp);
    a.partitions.push_back(part);
    topics.insert(parts_[part].topic);
    // A new assignment restarts the member's reading of the partition, even in the same
    // generation (a new coordinator that restored the generation hands it out again, and an
    // eager member that revoked its partitions resumes from the committed offset).
    consumer_last_.erase({a.member, generation, part});
    auto [it, first] = owners_.try_emplace({a.group, generation, part}, a.member);
    if (first || it->second == a.member) continue;
    owners_bad_.push_back(
        OwnershipViolation{time, part, a.group, generation, it->second, a.member});
  }
  assignments_.push_back(std::move(a));
}

void History::DeclareGroup(std::string_view group,
                           std::function<bool(const std::string&)> reads) {
  declared_groups_[Intern(group)] = std::move(reads);
}

void History::ObserveLogStart(const TopicPartition& tp, int64_t min_log_start, TimeNs now) {
  PartState& ps = parts_[InternPart(tp)];
  if (min_log_start <= ps.floor) return;
  ps.floor = min_log_start;
  ps.pending_floors.emplace_back(now, min_log_start);
}

void History::ForgetTopic(const std::string& topic, TimeNs now) {
  const std::string gone = absl::StrCat(topic, " (deleted at ", FormatTime(now), ")");
  for (PartId part = 0; part < parts_.size(); ++part) {
    PartState& ps = parts_[part];
    if (ps.tp.topic != topic) continue;
    part_ids_.erase(ps.tp);
    ps.tp.topic = gone;
    ps.topic = Intern(gone);
    part_ids_.emplace(ps.tp, part);
    ps.floor = std::numeric_limits<int64_t>::max();
    ps.pending_floors.emplace_back(now, ps.floor);
  }
  last_part_ = kNoPart;
}

void History::Retire(TimeNs now) {
  if (retire_lag_ns_ == kForever) return;
  for (PartId part = 0; part < parts_.size(); ++part) {
    PartState& ps = parts_[part];
    int64_t limit = ps.retired_below;
    while (!ps.pending_floors.empty() && ps.pending_floors.front().first + retire_lag_ns_ <= now) {
      limit = std::max(limit, ps.pending_floors.front().second);
      ps.pending_floors.pop_front();
    }
    if (ps.compacted) continue;
    limit -= limit % kBucketOffsets;  // whole buckets only
    while (!ps.buckets.empty() && (ps.buckets.begin()->first + 1) * kBucketOffsets <= limit) {
      if (ps.hot == &ps.buckets.begin()->second) ps.hot = nullptr;
      RetireBucket(part, ps.buckets.begin()->second);
      ps.buckets.erase(ps.buckets.begin());
    }
    KSIM_CHECK(limit <= ps.floor);
    ps.retired_below = limit;
    // The final read starts at or above the floor: it cannot hold offsets a gap below spans.
    std::erase_if(ps.gaps, [&](const PollStep& g) { return g.offset <= ps.retired_below; });
  }
}

std::vector<NameId> History::ReadersOf(NameId topic) {
  std::vector<NameId> out;
  for (const auto& [group, reads] : declared_groups_) {
    auto [it, first] = reads_cache_.try_emplace({group, topic}, false);
    if (first) it->second = reads(names_.at(topic));
    if (it->second) out.push_back(group);
  }
  for (const auto& [group, topics] : group_topics_) {
    if (declared_groups_.count(group) == 0 && topics.count(topic) > 0) out.push_back(group);
  }
  return out;
}

// A bucket's verdicts are final: fold them into counters and facts.
void History::RetireBucket(PartId part, Bucket& b) {
  std::vector<const AckOp*> acks;
  for (const AckOp& a : b.acks) acks.push_back(&a);
  std::vector<const PollOp*> polls;
  for (const PollOp& p : b.polls) polls.push_back(&p);
  CollectConflicts(part, acks, polls, nullptr, &retired_conflicts_);
  // Below the retention floor: neither lost nor a liveness failure; consumed or not per group.
  std::map<RecordId, const AckOp*> acked;
  for (const AckOp& a : b.acks) {
    if (a.ok()) acked.emplace(a.record, &a);
  }
  retired_acked_ += static_cast<int64_t>(acked.size());
  std::set<std::pair<RecordId, NameId>> polled;
  for (const PollOp& p : b.polls) polled.emplace(p.record, p.group);
  const std::vector<NameId> readers = ReadersOf(parts_[part].topic);
  for (const auto& [record, ack] : acked) {
    for (NameId g : readers) {
      if (polled.count({record, g}) > 0 || orphan_polls_.erase({record, g}) > 0) continue;
      unconsumed_[g].emplace(record, Unconsumed{ack->time, part, ack->offset});
    }
    if (on_retired_) on_retired_(record);
  }
  for (const PollOp& p : b.polls) {
    if (acked.count(p.record) == 0) orphan_polls_.emplace(p.record, p.group);
  }
  const auto n = static_cast<int64_t>(b.acks.size() + b.polls.size());
  live_ops_ -= n;
  retired_ops_ += n;
}

// Claims on one partition's offsets in the checker's order: acknowledgements (by seq), then
// polls (by seq), then the final read; a claim naming another record than the first is a
// conflict.
void History::CollectConflicts(PartId part, std::vector<const AckOp*> acks,
                               std::vector<const PollOp*> polls,
                               const std::map<int64_t, RecordId>* final_read,
                               std::vector<OffsetConflict>* out) const {
  std::sort(acks.begin(), acks.end(), [](auto* x, auto* y) { return x->seq < y->seq; });
  std::sort(polls.begin(), polls.end(), [](auto* x, auto* y) { return x->seq < y->seq; });
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  auto span = [&](int64_t o) {
    lo = std::min(lo, o);
    hi = std::max(hi, o);
  };
  for (const AckOp* a : acks) span(a->offset);
  for (const PollOp* p : polls) span(p->offset);
  if (final_read != nullptr && !final_read->empty()) {
    span(final_read->begin()->first);
    span(final_read->rbegin()->first);
  }
  if (lo > hi) return;
  FirstClaims seen(lo, hi,
                   acks.size() + polls.size() + (final_read ? final_read->size() : 0));
  auto see = [&](int64_t offset, const Claim& c, uint64_t seq, TimeNs t) {
    if (offset < 0 || c.record == 0) return;
    const Claim& first = seen.See(offset, c);
    if (first.record == c.record) return;
    out->push_back(OffsetConflict{c.kind, seq, t, part, offset, first, c});
  };
  for (const AckOp* a : acks) {
    if (a->ok()) see(a->offset, Claim{Claim::kAck, a->producer, a->record}, a->seq, a->time);
  }
  for (const PollOp* p : polls) {
    see(p->offset, Claim{Claim::kPoll, p->consumer, p->record}, p->seq, p->time);
  }
  if (final_read != nullptr) {
    for (const auto& [offset, rec] : *final_read) {
      see(offset, Claim{Claim::kFinalRead, 0, rec}, static_cast<uint64_t>(offset), 0);
    }
  }
}

std::vector<OffsetConflict> History::OffsetConflicts() const {
  std::vector<OffsetConflict> out = retired_conflicts_;
  for (PartId part = 0; part < parts_.size(); ++part) {
    const PartState& ps = parts_[part];
    std::vector<const AckOp*> acks;
    std::vector<const PollOp*> polls;
    for (const auto& [index, b] : ps.buckets) {
      for (const AckOp& a : b.acks) acks.push_back(&a);
      for (const PollOp& p : b.polls) polls.push_back(&p);
    }
    auto f = final_reads.find(ps.tp);
    CollectConflicts(part, std::move(acks), std::move(polls),
                     f == final_reads.end() ? nullptr : &f->second, &out);
  }
  std::sort(out.begin(), out.end(), [this](const OffsetConflict& x, const OffsetConflict& y) {
    if (x.phase != y.phase) return x.phase < y.phase;
    if (x.phase != Claim::kFinalRead) return x.seq < y.seq;
    if (x.part != y.part) return PartLess(x.part, y.part);
    return x.offset < y.offset;
  });
  return out;
}

std::vector<PollStep> History::PollSteps() const {
  std::vector<PollStep> out = nonmonotonic_;
  for (const PartState& ps : parts_) out.insert(out.end(), ps.gaps.begin(), ps.gaps.end());
  std::sort(out.begin(), out.end(),
            [](const PollStep& x, const PollStep& y) { return x.seq < y.seq; });
  return out;
}

void History::ForEachAck(const std::function<void(const AckOp&)>& fn) const {
  for (const AckOp& a : unplaced_acks_) fn(a);
  for (const PartState& ps : parts_) {
    for (const auto& [index, b] : ps.buckets) {
      for (const AckOp& a : b.acks) fn(a);
    }
  }
}

void History::ForEachPoll(const std::function<void(const PollOp&)>& fn) const {
  for (const PartState& ps : parts_) {
    for (const auto& [index, b] : ps.buckets) {
      for (const PollOp& p : b.polls) fn(p);
    }
  }
}

int64_t History::live_bytes() const {
  constexpr int64_t kNode = 48;  // a std::map / std::set node's overhead, about
  int64_t n = static_cast<int64_t>(unplaced_acks_.capacity() * sizeof(AckOp));
  for (const PartState& ps : parts_) {
    n += static_cast<int64_t>(sizeof(PartState) + ps.gaps.capacity() * sizeof(PollStep) +
                              ps.pending_floors.size() * 16);
    for (const auto& [index, b] : ps.buckets) {
      n += kNode + static_cast<int64_t>(sizeof(Bucket) + b.acks.capacity() * sizeof(AckOp) +
                                        b.polls.capacity() * sizeof(PollOp));
    }
  }
  for (const auto& [id, prod] : producers_) {
    n += kNode + static_cast<int64_t>(prod.sends.size() * sizeof(PendingSend));
  }
  for (const auto& [g, u] : unconsumed_) {
    n += kNode + static_cast<int64_t>(u.size() * (kNode + 8 + sizeof(Unconsumed)));
  }
  n += static_cast<int64_t>(orphan_polls_.size()) * (kNode + 16);
  n += static_cast<int64_t>(retired_conflicts_.capacity() * sizeof(OffsetConflict) +
                            order_violations_.capacity() * sizeof(OrderViolation) +
                            nonmonotonic_.capacity() * sizeof(PollStep) +
                            owners_bad_.capacity() * sizeof(OwnershipViolation) +
                            commits_bad_.capacity() * sizeof(CommitViolation));
  n += static_cast<int64_t>(producer_last_.size() + consumer_last_.size() + owners_.size() +
                            commit_last_.size()) * (kNode + 32);
  for (const std::string& s : names_) n += kNode + static_cast<int64_t>(s.capacity());
  for (const std::string& s : keys_) n += kNode + static_cast<int64_t>(s.capacity());
  return n;
}

}  // namespace ksim
