// Jepsen-style checkers over a History. Each returns a CheckResult naming every anomaly with
// the record, partition, offset and virtual time involved, so a report can print the trace
// window around it.
#ifndef KSIM_SIM_CHECK_CHECKERS_H_
#define KSIM_SIM_CHECK_CHECKERS_H_

#include <string>
#include <vector>

#include "sim/check/history.h"

namespace ksim {

struct Anomaly {
  TimeNs time = 0;  // when the offending operation happened (for the trace window)
  TopicPartition tp;
  int64_t offset = -1;
  RecordId record = 0;
  std::string message;  // one line, self-contained
};

enum class CheckStatus { kPass, kFail, kSkipped };

struct CheckResult {
  std::string name;
  CheckStatus status = CheckStatus::kPass;
  std::string summary;  // e.g. "3 acknowledged records lost" or why it was skipped
  std::vector<Anomaly> anomalies;
};

// The checks a scenario can ask for, by name.
inline constexpr const char* kNoLostAckedWrites = "no-lost-acked-writes";
inline constexpr const char* kNoLostWrites = "no-lost-writes";
inline constexpr const char* kNoDuplicates = "no-duplicates";
inline constexpr const char* kPartitionOrder = "partition-order";
inline constexpr const char* kConsistentOffsets = "consistent-offsets";
inline constexpr const char* kReplicasAgree = "replicas-agree";
inline constexpr const char* kLiveness = "liveness";
inline constexpr const char* kAllConsumed = "all-acked-consumed";
inline constexpr const char* kGroupSafety = "group-safety";
inline constexpr const char* kCommitsMonotonic = "commits-monotonic";

const std::vector<std::string>& AllCheckNames();

// Acknowledged records (acks >= 1, no error) missing from every replica and the final read.
// Records below their partition's retention floor (History::retention_floor: retention deleted
// them from every replica) are expected to be absent, here and in liveness.
CheckResult CheckNoLostAckedWrites(const History& h);
// Like no-lost-acked-writes, but counts every send that succeeded, including acks=0 sends, which
// succeed as soon as the request is written to the socket: what a fire-and-forget producer
// believes it stored.
CheckResult CheckNoLostWrites(const History& h);
// A record present at two offsets of the final log, or acknowledged at two offsets.
CheckResult CheckNoDuplicates(const History& h);
// Per producer and partition, acknowledged offsets follow send order; per consumer and
// partition, polled offsets increase within a generation and skip no offset the final log has.
CheckResult CheckPartitionOrder(const History& h);
// Two different records seen at one (partition, offset) by acks, polls or the final read.
CheckResult CheckConsistentOffsets(const History& h);
// Every pair of live replicas agrees on the records below the lower of their high watermarks.
CheckResult CheckReplicasAgree(const History& h);
// After faults healed, every acknowledged record is readable by a fresh consumer.
CheckResult CheckLiveness(const History& h);
// Every acknowledged record was polled by some consumer of each group (at-least-once).
CheckResult CheckAllAckedConsumed(const History& h);
// No partition is owned by two members of a group in one generation.
CheckResult CheckGroupSafety(const History& h);
// Successful commits of a group never move a partition's offset backwards within a generation.
CheckResult CheckCommitsMonotonic(const History& h);

// Runs the named check; unknown names are a programming error (validated earlier).
CheckResult RunCheck(const std::string& name, const History& h);

}  // namespace ksim

#endif  // KSIM_SIM_CHECK_CHECKERS_H_
