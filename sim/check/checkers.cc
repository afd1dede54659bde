#include "sim/check/checkers.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

std::string Rec(RecordId r) { return absl::StrFormat("record %d", r); }

CheckResult Finish(std::string name, std::vector<Anomaly> anomalies, const std::string& what,
                   const std::string& ok_summary) {
  CheckResult r;
  r.name = std::move(name);
  if (anomalies.empty()) {
    r.status = CheckStatus::kPass;
    r.summary = ok_summary;
  } else {
    r.status = CheckStatus::kFail;
    r.summary = absl::StrCat(anomalies.size(), " ", what);
  }
  r.anomalies = std::move(anomalies);
  return r;
}

// Live successful sends, first acknowledgement per record: acknowledged ones (acks >= 1), or
// with acks=0 sends too.
std::map<RecordId, const AckOp*> FirstAcks(const History& h, bool with_acks_zero) {
  std::map<RecordId, const AckOp*> out;
  h.ForEachAck([&](const AckOp& a) {
    if (a.error != Error::kNone || (a.acks_zero && !with_acks_zero)) return;
    auto [it, inserted] = out.emplace(a.record, &a);
    if (!inserted && a.seq < it->second->seq) it->second = &a;
  });
  return out;
}

// Live ok acknowledgements in the order they happened.
std::vector<const AckOp*> OkAcksInOrder(const History& h) {
  std::vector<const AckOp*> out;
  h.ForEachAck([&](const AckOp& a) {
    if (a.ok()) out.push_back(&a);
  });
  std::sort(out.begin(), out.end(), [](auto* x, auto* y) { return x->seq < y->seq; });
  return out;
}

// An acknowledged record below the partition's retention floor: retention deleted its offset
// from every replica, so its absence is expected.
bool BelowFloor(const History& h, const AckOp& a) {
  return a.part != kNoPart && a.offset >= 0 && a.offset < h.retention_floor(a.part);
}

// Records held by live replicas or returned by the final read, per partition (sorted ids).
class Holdings {
 public:
  Holdings(const History& h, bool replicas_too) {
    for (const auto& [tp, log] : h.final_reads) {
      for (const auto& [offset, rec] : log) ids_[tp].push_back(rec);
    }
    if (replicas_too) {
      for (const auto& [tp, reps] : h.replicas) {
        for (const ReplicaLog& r : reps) {
          if (!r.alive) continue;
          for (const auto& [offset, rec] : r.records) ids_[tp].push_back(rec);
        }
      }
    }
    for (auto& [tp, ids] : ids_) {
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
  }
  bool Has(const TopicPartition& tp, RecordId rec) const {
    auto it = ids_.find(tp);
    return it != ids_.end() && std::binary_search(it->second.begin(), it->second.end(), rec);
  }

 private:
  std::map<TopicPartition, std::vector<RecordId>> ids_;
};

using RecordSet = std::set<std::pair<TopicPartition, RecordId>>;

// Compacted topics: records that a later record with the same key in the same partition
// superseded (seen at a higher offset by an ack, the final read or any replica). The log cleaner
// may remove them, so their absence is not a loss. Compacted partitions are never retired.
RecordSet Superseded(const History& h) {
  RecordSet out;
  std::map<RecordId, const AckOp*> key_of;
  h.ForEachAck([&](const AckOp& a) {
    if (!a.compacted || a.key == kNoKey) return;
    auto [it, inserted] = key_of.emplace(a.record, &a);
    if (!inserted && a.seq < it->second->seq) it->second = &a;
  });
  if (key_of.empty()) return out;
  std::map<TopicPartition, std::map<int64_t, std::set<RecordId>>> seen;
  auto see = [&](const TopicPartition& tp, int64_t offset, RecordId rec) {
    if (offset >= 0 && key_of.count(rec) > 0) seen[tp][offset].insert(rec);
  };
  h.ForEachAck([&](const AckOp& a) {
    if (a.ok() && a.part != kNoPart) see(h.tp(a.part), a.offset, a.record);
  });
  for (const auto& [tp, log] : h.final_reads) {
    for (const auto& [offset, rec] : log) see(tp, offset, rec);
  }
  for (const auto& [tp, reps] : h.replicas) {
    for (const ReplicaLog& r : reps) {
      for (const auto& [offset, rec] : r.records) see(tp, offset, rec);
    }
  }
  for (const auto& [tp, offsets] : seen) {
    std::map<KeyId, int64_t> last;  // key -> highest offset
    for (const auto& [offset, recs] : offsets) {
      for (RecordId rec : recs) last[key_of.at(rec)->key] = offset;
    }
    for (const auto& [offset, recs] : offsets) {
      for (RecordId rec : recs) {
        if (offset < last.at(key_of.at(rec)->key)) out.emplace(tp, rec);
      }
    }
  }
  return out;
}

bool In(const RecordSet& s, const TopicPartition& tp, RecordId rec) {
  return !s.empty() && s.count({tp, rec}) > 0;
}

std::string Who(const History& h, const Claim& c) {
  switch (c.kind) {
    case Claim::kAck: return "the ack to " + h.name(c.who);
    case Claim::kPoll: return "poll by " + h.name(c.who);
    case Claim::kFinalRead: return "the final read";
  }
  return "?";
}

}  // namespace

const std::vector<std::string>& AllCheckNames() {
  static const std::vector<std::string> names = {
      kNoLostAckedWrites, kNoLostWrites,    kNoDuplicates, kPartitionOrder,  kConsistentOffsets,
      kReplicasAgree,     kLiveness,        kAllConsumed,  kGroupSafety,     kCommitsMonotonic};
  return names;
}

CheckResult CheckNoLostAckedWrites(const History& h) {
  const Holdings surviving(h, /*replicas_too=*/true);
  const RecordSet superseded = Superseded(h);
  const auto acked = FirstAcks(h, /*with_acks_zero=*/false);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : acked) {
    const TopicPartition& tp = h.tp(ack->part);
    if (surviving.Has(tp, rec) || In(superseded, tp, rec) || BelowFloor(h, *ack)) continue;
    out.push_back(Anomaly{ack->time, tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " from ", h.name(ack->producer),
                                       " acknowledged at ", tp.ToString(), " offset ",
                                       ack->offset, " at ", FormatTime(ack->time),
                                       " is on no live replica and was not read back")});
  }
  const int64_t total = static_cast<int64_t>(acked.size()) + h.retired_acked();
  return Finish(kNoLostAckedWrites, std::move(out), "acknowledged records lost",
                absl::StrCat(total, " acknowledged records all present"));
}

CheckResult CheckNoLostWrites(const History& h) {
  const Holdings surviving(h, /*replicas_too=*/true);
  const auto succeeded = FirstAcks(h, /*with_acks_zero=*/true);
  const RecordSet superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : succeeded) {
    const TopicPartition& tp = h.tp(ack->part);
    if (surviving.Has(tp, rec) || In(superseded, tp, rec) || BelowFloor(h, *ack)) continue;
    out.push_back(Anomaly{ack->time, tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " from ", h.name(ack->producer), " sent to ",
                                       tp.ToString(), ack->acks_zero ? " with acks=0" : "",
                                       ", reported successful at ", FormatTime(ack->time),
                                       ", is on no live replica and was not read back")});
  }
  const int64_t total = static_cast<int64_t>(succeeded.size()) + h.retired_acked();
  return Finish(kNoLostWrites, std::move(out), "successfully sent records lost",
                absl::StrCat(total, " successfully sent records all present"));
}

CheckResult CheckNoDuplicates(const History& h) {
  std::vector<Anomaly> out;
  std::map<RecordId, std::pair<TopicPartition, int64_t>> first;
  for (const auto& [tp, log] : h.final_reads) {
    for (const auto& [offset, rec] : log) {
      if (rec == 0) continue;
      auto [it, inserted] = first.emplace(rec, std::make_pair(tp, offset));
      if (inserted) continue;
      out.push_back(Anomaly{0, tp, offset, rec,
                            absl::StrCat(Rec(rec), " is stored twice: ",
                                         it->second.first.ToString(), " offset ",
                                         it->second.second, " and ", tp.ToString(), " offset ",
                                         offset)});
    }
  }
  std::map<RecordId, const AckOp*> acked;
  for (const AckOp* a : OkAcksInOrder(h)) {
    auto [it, inserted] = acked.emplace(a->record, a);
    if (!inserted && (it->second->offset != a->offset || it->second->part != a->part)) {
      out.push_back(Anomaly{a->time, h.tp(a->part), a->offset, a->record,
                            absl::StrCat(Rec(a->record), " was acknowledged twice, at offsets ",
                                         it->second->offset, " and ", a->offset)});
    }
  }
  return Finish(kNoDuplicates, std::move(out), "duplicated records", "no record stored twice");
}

CheckResult CheckPartitionOrder(const History& h) {
  std::vector<Anomaly> out;
  // Producer side: send order per producer vs acknowledged offsets per partition.
  std::vector<OrderViolation> order = h.OrderViolations();
  std::sort(order.begin(), order.end(), [&h](const OrderViolation& x, const OrderViolation& y) {
    if (x.producer != y.producer) return h.name(x.producer) < h.name(y.producer);
    if (x.part != y.part) return h.PartLess(x.part, y.part);
    return x.record < y.record;
  });
  for (const OrderViolation& v : order) {
    const TopicPartition& tp = h.tp(v.part);
    out.push_back(Anomaly{v.time, tp, v.offset, v.record,
                          absl::StrCat(Rec(v.record), " sent by ", h.name(v.producer), " after ",
                                       Rec(v.prev_record), " was stored before it in ",
                                       tp.ToString(), " (offset ", v.offset, " <= ",
                                       v.prev_offset, ")")});
  }
  // Consumer side: offsets increase within a consumer's generation and skip nothing.
  const RecordSet superseded = Superseded(h);
  for (const PollStep& p : h.PollSteps()) {
    const TopicPartition& tp = h.tp(p.part);
    if (p.offset <= p.prev_offset) {
      out.push_back(Anomaly{p.time, tp, p.offset, p.record,
                            absl::StrCat(h.name(p.consumer), " polled ", tp.ToString(),
                                         " offset ", p.offset, " after offset ", p.prev_offset,
                                         " (nonmonotonic poll)")});
      continue;
    }
    auto f = h.final_reads.find(tp);
    if (f == h.final_reads.end()) continue;
    auto skipped = f->second.upper_bound(p.prev_offset);
    // A superseded record of a compacted topic may have been cleaned before this poll.
    while (skipped != f->second.end() && skipped->first < p.offset &&
           In(superseded, tp, skipped->second)) {
      ++skipped;
    }
    if (skipped != f->second.end() && skipped->first < p.offset) {
      out.push_back(Anomaly{p.time, tp, skipped->first, skipped->second,
                            absl::StrCat(h.name(p.consumer), " skipped ", tp.ToString(),
                                         " offset ", skipped->first, " (polled ", p.prev_offset,
                                         " then ", p.offset, ")")});
    }
  }
  return Finish(kPartitionOrder, std::move(out), "ordering anomalies",
                "send order kept; polls monotonic");
}

CheckResult CheckConsistentOffsets(const History& h) {
  std::vector<Anomaly> out;
  for (const OffsetConflict& c : h.OffsetConflicts()) {
    const TopicPartition& tp = h.tp(c.part);
    out.push_back(Anomaly{c.time, tp, c.offset, c.later.record,
                          absl::StrCat(tp.ToString(), " offset ", c.offset, " holds ",
                                       Rec(c.first.record), " for ", Who(h, c.first), " but ",
                                       Rec(c.later.record), " for ", Who(h, c.later))});
  }
  return Finish(kConsistentOffsets, std::move(out), "offsets with two different records",
                "every offset holds one record");
}

CheckResult CheckReplicasAgree(const History& h) {
  const RecordSet superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [tp, reps] : h.replicas) {
    for (size_t i = 0; i < reps.size(); ++i) {
      for (size_t j = i + 1; j < reps.size(); ++j) {
        const ReplicaLog& a = reps[i];
        const ReplicaLog& b = reps[j];
        if (!a.alive || !b.alive) continue;
        const int64_t from = std::max(a.log_start_offset, b.log_start_offset);
        const int64_t to = std::min(a.high_watermark, b.high_watermark);
        for (auto it = a.records.lower_bound(from); it != a.records.end() && it->first < to;
             ++it) {
          auto other = b.records.find(it->first);
          RecordId theirs = other == b.records.end() ? 0 : other->second;
          if (theirs == it->second) continue;
          // Each broker's cleaner compacts its replica on its own schedule.
          if (theirs == 0 && In(superseded, tp, it->second)) continue;
          out.push_back(Anomaly{0, tp, it->first, it->second,
                                absl::StrCat(tp.ToString(), " offset ", it->first,
                                             ": broker ", a.broker, " has ", Rec(it->second),
                                             ", broker ", b.broker, " has ",
                                             theirs == 0 ? "nothing" : Rec(theirs),
                                             " (below both high watermarks)")});
          break;  // one divergence per pair is enough
        }
      }
    }
  }
  return Finish(kReplicasAgree, std::move(out), "diverging replica pairs",
                "live replicas agree on the committed prefix");
}

CheckResult CheckLiveness(const History& h) {
  const Holdings readable(h, /*replicas_too=*/false);
  const Holdings held(h, /*replicas_too=*/true);
  const RecordSet superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : FirstAcks(h, /*with_acks_zero=*/false)) {
    const TopicPartition& tp = h.tp(ack->part);
    if (readable.Has(tp, rec) || !held.Has(tp, rec) || In(superseded, tp, rec) ||
        BelowFloor(h, *ack)) {
      continue;
    }
    out.push_back(Anomaly{ack->time, tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " acknowledged at ", tp.ToString(),
                                       " offset ", ack->offset,
                                       " is held by a replica but was not readable after the "
                                       "faults healed")});
  }
  for (const auto& [tp, complete] : h.final_read_complete) {
    if (!complete) {
      out.push_back(Anomaly{0, tp, -1, 0,
                            absl::StrCat(tp.ToString(),
                                         " could not be read to its end after the faults "
                                         "healed (no leader or no progress)")});
    }
  }
  return Finish(kLiveness, std::move(out), "liveness failures",
                "every acknowledged record readable after healing");
}

CheckResult CheckAllAckedConsumed(const History& h) {
  if (h.group_topics().empty()) {
    CheckResult r;
    r.name = kAllConsumed;
    r.status = CheckStatus::kSkipped;
    r.summary = "no consumer group in this run";
    return r;
  }
  // Groups by name; what each polled (live polls and retired polls of live records).
  std::map<std::string, NameId> groups;
  for (const auto& [g, topics] : h.group_topics()) groups.emplace(h.name(g), g);
  std::map<NameId, std::vector<RecordId>> polled;
  h.ForEachPoll([&](const PollOp& p) { polled[p.group].push_back(p.record); });
  for (const auto& [rec, g] : h.orphan_polls()) polled[g].push_back(rec);
  for (auto& [g, recs] : polled) std::sort(recs.begin(), recs.end());
  const RecordSet superseded = Superseded(h);
  const auto acked = FirstAcks(h, /*with_acks_zero=*/false);
  std::vector<Anomaly> out;
  for (const auto& [group, g] : groups) {
    const std::set<NameId>& topics = h.group_topics().at(g);
    const std::vector<RecordId>& mine = polled[g];
    auto consumed = [&](RecordId rec) {
      return std::binary_search(mine.begin(), mine.end(), rec);
    };
    // Live and retired unconsumed records of the group's topics, by record.
    std::map<RecordId, Anomaly> missing;
    auto note = [&](RecordId rec, TimeNs time, PartId part, int64_t offset) {
      const TopicPartition& tp = h.tp(part);
      missing.emplace(rec, Anomaly{time, tp, offset, rec,
                                   absl::StrCat(Rec(rec), " acknowledged at ", tp.ToString(),
                                                " offset ", offset,
                                                " was never consumed by group ", group)});
    };
    for (const auto& [rec, ack] : acked) {
      if (ack->part == kNoPart || topics.count(h.topic(ack->part)) == 0 || consumed(rec) ||
          In(superseded, h.tp(ack->part), rec)) {
        continue;
      }
      note(rec, ack->time, ack->part, ack->offset);
    }
    if (auto u = h.unconsumed().find(g); u != h.unconsumed().end()) {
      for (const auto& [rec, un] : u->second) {
        if (topics.count(h.topic(un.part)) == 0 || consumed(rec)) continue;
        note(rec, un.time, un.part, un.offset);
      }
    }
    for (auto& [rec, a] : missing) out.push_back(std::move(a));
  }
  return Finish(kAllConsumed, std::move(out), "acknowledged records never consumed",
                "every acknowledged record consumed by every group");
}

CheckResult CheckGroupSafety(const History& h) {
  std::vector<Anomaly> out;
  for (const OwnershipViolation& v : h.ownership_violations()) {
    const TopicPartition& tp = h.tp(v.part);
    out.push_back(Anomaly{v.time, tp, -1, 0,
                          absl::StrCat(tp.ToString(), " is owned by both ", h.name(v.owner),
                                       " and ", h.name(v.member), " in generation ",
                                       v.generation, " of group ", h.name(v.group))});
  }
  return Finish(kGroupSafety, std::move(out), "partitions owned twice in one generation",
                "no partition owned twice in a generation");
}

CheckResult CheckCommitsMonotonic(const History& h) {
  std::vector<Anomaly> out;
  for (const CommitViolation& c : h.commit_violations()) {
    const TopicPartition& tp = h.tp(c.part);
    out.push_back(Anomaly{c.time, tp, c.offset, 0,
                          absl::StrCat("group ", h.name(c.group), " committed ", tp.ToString(),
                                       " offset ", c.offset, " after ", c.prev_offset,
                                       " in generation ", c.generation)});
  }
  return Finish(kCommitsMonotonic, std::move(out), "backward commits",
                "committed offsets never went backwards");
}

CheckResult RunCheck(const std::string& name, const History& h) {
  if (name == kNoLostAckedWrites) return CheckNoLostAckedWrites(h);
  if (name == kNoLostWrites) return CheckNoLostWrites(h);
  if (name == kNoDuplicates) return CheckNoDuplicates(h);
  if (name == kPartitionOrder) return CheckPartitionOrder(h);
  if (name == kConsistentOffsets) return CheckConsistentOffsets(h);
  if (name == kReplicasAgree) return CheckReplicasAgree(h);
  if (name == kLiveness) return CheckLiveness(h);
  if (name == kAllConsumed) return CheckAllAckedConsumed(h);
  if (name == kGroupSafety) return CheckGroupSafety(h);
  if (name == kCommitsMonotonic) return CheckCommitsMonotonic(h);
  KSIM_UNREACHABLE("unknown check " + name);
}

}  // namespace ksim
