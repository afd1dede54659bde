#include "sim/check/checkers.h"

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

// Acknowledged (acks >= 1, successful) records, first ack per record.
std::map<RecordId, const AckOp*> AckedRecords(const History& h) {
  std::map<RecordId, const AckOp*> acked;
  for (const AckOp& a : h.acks) {
    if (a.error == Error::kNone && !a.acks_zero) acked.emplace(a.record, &a);
  }
  return acked;
}

// Records held by live replicas or returned by the final read, per partition.
std::set<std::pair<TopicPartition, RecordId>> Surviving(const History& h, bool replicas_too) {
  std::set<std::pair<TopicPartition, RecordId>> out;
  for (const auto& [tp, log] : h.final_reads) {
    for (const auto& [offset, rec] : log) out.emplace(tp, rec);
  }
  if (replicas_too) {
    for (const auto& [tp, reps] : h.replicas) {
      for (const ReplicaLog& r : reps) {
        if (!r.alive) continue;
        for (const auto& [offset, rec] : r.records) out.emplace(tp, rec);
      }
    }
  }
  return out;
}

// Compacted topics: records that a later record with the same key in the same partition
// superseded (seen at a higher offset by an ack, the final read or any replica). The log cleaner
// may remove them, so their absence is not a loss.
std::set<std::pair<TopicPartition, RecordId>> Superseded(const History& h) {
  std::set<std::pair<TopicPartition, RecordId>> out;
  std::map<RecordId, const std::string*> key_of;
  for (const AckOp& a : h.acks) {
    if (a.compacted && a.key.has_value()) key_of.emplace(a.record, &*a.key);
  }
  if (key_of.empty()) return out;
  std::map<TopicPartition, std::map<int64_t, std::set<RecordId>>> seen;
  auto see = [&](const TopicPartition& tp, int64_t offset, RecordId rec) {
    if (offset >= 0 && key_of.count(rec) > 0) seen[tp][offset].insert(rec);
  };
  for (const AckOp& a : h.acks) {
    if (a.error == Error::kNone && !a.acks_zero) see(a.tp, a.offset, a.record);
  }
  for (const auto& [tp, log] : h.final_reads) {
    for (const auto& [offset, rec] : log) see(tp, offset, rec);
  }
  for (const auto& [tp, reps] : h.replicas) {
    for (const ReplicaLog& r : reps) {
      for (const auto& [offset, rec] : r.records) see(tp, offset, rec);
    }
  }
  for (const auto& [tp, offsets] : seen) {
    std::map<std::string, int64_t> last;  // key -> highest offset
    for (const auto& [offset, recs] : offsets) {
      for (RecordId rec : recs) last[*key_of.at(rec)] = offset;
    }
    for (const auto& [offset, recs] : offsets) {
      for (RecordId rec : recs) {
        if (offset < last.at(*key_of.at(rec))) out.emplace(tp, rec);
      }
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string>& AllCheckNames() {
  static const std::vector<std::string> names = {
      kNoLostAckedWrites, kNoLostWrites,    kNoDuplicates, kPartitionOrder,  kConsistentOffsets,
      kReplicasAgree,     kLiveness,        kAllConsumed,  kGroupSafety,     kCommitsMonotonic};
  return names;
}

CheckResult CheckNoLostAckedWrites(const History& h) {
  auto surviving = Surviving(h, /*replicas_too=*/true);
  auto superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : AckedRecords(h)) {
    if (surviving.count({ack->tp, rec}) > 0 || superseded.count({ack->tp, rec}) > 0) continue;
    out.push_back(Anomaly{ack->time, ack->tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " from ", ack->producer, " acknowledged at ",
                                       ack->tp.ToString(), " offset ", ack->offset, " at ",
                                       FormatTime(ack->time),
                                       " is on no live replica and was not read back")});
  }
  return Finish(kNoLostAckedWrites, std::move(out), "acknowledged records lost",
                absl::StrCat(AckedRecords(h).size(), " acknowledged records all present"));
}

CheckResult CheckNoLostWrites(const History& h) {
  auto surviving = Surviving(h, /*replicas_too=*/true);
  std::map<RecordId, const AckOp*> succeeded;
  for (const AckOp& a : h.acks) {
    if (a.error == Error::kNone) succeeded.emplace(a.record, &a);
  }
  auto superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : succeeded) {
    if (surviving.count({ack->tp, rec}) > 0 || superseded.count({ack->tp, rec}) > 0) continue;
    out.push_back(Anomaly{ack->time, ack->tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " from ", ack->producer, " sent to ",
                                       ack->tp.ToString(), ack->acks_zero ? " with acks=0" : "",
                                       ", reported successful at ", FormatTime(ack->time),
                                       ", is on no live replica and was not read back")});
  }
  return Finish(kNoLostWrites, std::move(out), "successfully sent records lost",
                absl::StrCat(succeeded.size(), " successfully sent records all present"));
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
  for (const AckOp& a : h.acks) {
    if (a.error != Error::kNone || a.acks_zero) continue;
    auto [it, inserted] = acked.emplace(a.record, &a);
    if (!inserted && (it->second->offset != a.offset || it->second->tp != a.tp)) {
      out.push_back(Anomaly{a.time, a.tp, a.offset, a.record,
                            absl::StrCat(Rec(a.record), " was acknowledged twice, at offsets ",
                                         it->second->offset, " and ", a.offset)});
    }
  }
  return Finish(kNoDuplicates, std::move(out), "duplicated records", "no record stored twice");
}

CheckResult CheckPartitionOrder(const History& h) {
  std::vector<Anomaly> out;
  // Producer side: send order per producer vs acknowledged offsets per partition.
  std::map<RecordId, size_t> send_index;
  for (size_t i = 0; i < h.sends.size(); ++i) send_index.emplace(h.sends[i].record, i);
  std::map<std::pair<std::string, TopicPartition>, std::map<size_t, const AckOp*>> by_producer;
  for (const AckOp& a : h.acks) {
    if (a.error != Error::kNone || a.acks_zero) continue;
    auto it = send_index.find(a.record);
    if (it == send_index.end()) continue;
    by_producer[{a.producer, a.tp}].emplace(it->second, &a);
  }
  for (const auto& [key, acks] : by_producer) {
    const AckOp* prev = nullptr;
    for (const auto& [index, ack] : acks) {
      if (prev != nullptr && ack->offset <= prev->offset) {
        out.push_back(Anomaly{ack->time, ack->tp, ack->offset, ack->record,
                              absl::StrCat(Rec(ack->record), " sent by ", key.first, " after ",
                                           Rec(prev->record), " was stored before it in ",
                                           ack->tp.ToString(), " (offset ", ack->offset,
                                           " <= ", prev->offset, ")")});
      }
      prev = ack;
    }
  }
  // Consumer side: offsets increase within a consumer's generation and skip nothing.
  auto superseded = Superseded(h);
  std::map<std::tuple<std::string, int32_t, TopicPartition>, const PollOp*> last;
  for (const PollOp& p : h.polls) {
    auto key = std::make_tuple(p.consumer, p.generation, p.tp);
    auto it = last.find(key);
    if (it != last.end()) {
      const PollOp& q = *it->second;
      if (p.offset <= q.offset) {
        out.push_back(Anomaly{p.time, p.tp, p.offset, p.record,
                              absl::StrCat(p.consumer, " polled ", p.tp.ToString(), " offset ",
                                           p.offset, " after offset ", q.offset,
                                           " (nonmonotonic poll)")});
      } else if (auto f = h.final_reads.find(p.tp); f != h.final_reads.end()) {
        auto skipped = f->second.upper_bound(q.offset);
        // A superseded record of a compacted topic may have been cleaned before this poll.
        while (skipped != f->second.end() && skipped->first < p.offset &&
               superseded.count({p.tp, skipped->second}) > 0) {
          ++skipped;
        }
        if (skipped != f->second.end() && skipped->first < p.offset) {
          out.push_back(Anomaly{p.time, p.tp, skipped->first, skipped->second,
                                absl::StrCat(p.consumer, " skipped ", p.tp.ToString(),
                                             " offset ", skipped->first, " (polled ", q.offset,
                                             " then ", p.offset, ")")});
        }
      }
    }
    last[key] = &p;
  }
  return Finish(kPartitionOrder, std::move(out), "ordering anomalies",
                "send order kept; polls monotonic");
}

CheckResult CheckConsistentOffsets(const History& h) {
  std::vector<Anomaly> out;
  std::map<std::pair<TopicPartition, int64_t>, std::pair<RecordId, std::string>> seen;
  auto see = [&](const TopicPartition& tp, int64_t offset, RecordId rec, TimeNs t,
                 const std::string& who) {
    if (offset < 0 || rec == 0) return;
    auto [it, inserted] = seen.emplace(std::make_pair(tp, offset), std::make_pair(rec, who));
    if (inserted || it->second.first == rec) return;
    out.push_back(Anomaly{t, tp, offset, rec,
                          absl::StrCat(tp.ToString(), " offset ", offset, " holds ",
                                       Rec(it->second.first), " for ", it->second.second,
                                       " but ", Rec(rec), " for ", who)});
  };
  for (const AckOp& a : h.acks) {
    if (a.error == Error::kNone && !a.acks_zero) see(a.tp, a.offset, a.record, a.time,
                                                     "the ack to " + a.producer);
  }
  for (const PollOp& p : h.polls) see(p.tp, p.offset, p.record, p.time, "poll by " + p.consumer);
  for (const auto& [tp, log] : h.final_reads) {
    for (const auto& [offset, rec] : log) see(tp, offset, rec, 0, "the final read");
  }
  return Finish(kConsistentOffsets, std::move(out), "offsets with two different records",
                "every offset holds one record");
}

CheckResult CheckReplicasAgree(const History& h) {
  auto superseded = Superseded(h);
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
          if (theirs == 0 && superseded.count({tp, it->second}) > 0) continue;
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
  auto readable = Surviving(h, /*replicas_too=*/false);
  auto held = Surviving(h, /*replicas_too=*/true);
  auto superseded = Superseded(h);
  std::vector<Anomaly> out;
  for (const auto& [rec, ack] : AckedRecords(h)) {
    if (readable.count({ack->tp, rec}) > 0 || held.count({ack->tp, rec}) == 0 ||
        superseded.count({ack->tp, rec}) > 0) {
      continue;
    }
    out.push_back(Anomaly{ack->time, ack->tp, ack->offset, rec,
                          absl::StrCat(Rec(rec), " acknowledged at ", ack->tp.ToString(),
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
  std::map<std::string, std::set<RecordId>> polled;
  std::map<std::string, std::set<std::string>> topics;
  for (const PollOp& p : h.polls) {
    polled[p.group].insert(p.record);
    topics[p.group].insert(p.tp.topic);
  }
  for (const AssignmentOp& a : h.assignments) {
    for (const auto& tp : a.partitions) topics[a.group].insert(tp.topic);
  }
  std::vector<Anomaly> out;
  if (topics.empty()) {
    CheckResult r;
    r.name = kAllConsumed;
    r.status = CheckStatus::kSkipped;
    r.summary = "no consumer group in this run";
    return r;
  }
  auto superseded = Superseded(h);
  for (const auto& [group, group_topics] : topics) {
    for (const auto& [rec, ack] : AckedRecords(h)) {
      if (group_topics.count(ack->tp.topic) == 0 || polled[group].count(rec) > 0 ||
          superseded.count({ack->tp, rec}) > 0) {
        continue;
      }
      out.push_back(Anomaly{ack->time, ack->tp, ack->offset, rec,
                            absl::StrCat(Rec(rec), " acknowledged at ", ack->tp.ToString(),
                                         " offset ", ack->offset, " was never consumed by group ",
                                         group)});
    }
  }
  return Finish(kAllConsumed, std::move(out), "acknowledged records never consumed",
                "every acknowledged record consumed by every group");
}

CheckResult CheckGroupSafety(const History& h) {
  std::map<std::tuple<std::string, int32_t, TopicPartition>, std::string> owner;
  std::vector<Anomaly> out;
  for (const AssignmentOp& a : h.assignments) {
    for (const TopicPartition& tp : a.partitions) {
      auto [it, inserted] =
          owner.emplace(std::make_tuple(a.group, a.generation, tp), a.member);
      if (inserted || it->second == a.member) continue;
      out.push_back(Anomaly{a.time, tp, -1, 0,
                            absl::StrCat(tp.ToString(), " is owned by both ", it->second,
                                         " and ", a.member, " in generation ", a.generation,
                                         " of group ", a.group)});
    }
  }
  return Finish(kGroupSafety, std::move(out), "partitions owned twice in one generation",
                "no partition owned twice in a generation");
}

CheckResult CheckCommitsMonotonic(const History& h) {
  std::map<std::tuple<std::string, int32_t, TopicPartition>, const CommitOp*> last;
  std::vector<Anomaly> out;
  for (const CommitOp& c : h.commits) {
    if (!c.ok) continue;
    auto key = std::make_tuple(c.group, c.generation, c.tp);
    auto it = last.find(key);
    if (it != last.end() && c.offset < it->second->offset) {
      out.push_back(Anomaly{c.time, c.tp, c.offset, 0,
                            absl::StrCat("group ", c.group, " committed ", c.tp.ToString(),
                                         " offset ", c.offset, " after ", it->second->offset,
                                         " in generation ", c.generation)});
    }
    last[key] = &c;
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
