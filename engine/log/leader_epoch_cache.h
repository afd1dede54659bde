// The leader-epoch cache (KIP-101): for each leader epoch, the offset where it started in this
// log. It answers OffsetsForLeaderEpoch, by which a follower finds where its log diverges from
// the leader's, and it is checkpointed to disk on every change.
#ifndef KSIM_ENGINE_LOG_LEADER_EPOCH_CACHE_H_
#define KSIM_ENGINE_LOG_LEADER_EPOCH_CACHE_H_

#include <cstdint>
#include <vector>

namespace ksim {

inline constexpr int32_t kUndefinedEpoch = -1;
inline constexpr int64_t kUndefinedEpochOffset = -1;

struct EpochEndOffset {
  int32_t epoch = kUndefinedEpoch;
  int64_t end_offset = kUndefinedEpochOffset;
  bool operator==(const EpochEndOffset&) const = default;
};

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

class LeaderEpochCache {
 public:
  // Records that `epoch` starts at `start_offset`. An epoch already present, or an older one,
  // is ignored; entries whose start is at or past `start_offset` with a lower epoch are
  // replaced (their data was truncated).
  // Returns whether the cache changed.
  bool Assign(int32_t epoch, int64_t start_offset);
  int32_t LatestEpoch() const { return entries_.empty() ? kUndefinedEpoch : entries_.back().epoch; }
  // Kafka's answer for `requested`: the largest epoch <= requested and where it ends (the start
  // of the next epoch, or `log_end_offset` for the latest); undefined below the earliest epoch
  // or above the latest.
  EpochEndOffset EndOffsetFor(int32_t requested, int64_t log_end_offset) const;
  // Drops epochs starting at or after `offset` (log truncated to `offset`).
  void TruncateFromEnd(int64_t offset);
  // Drops epochs wholly before `offset`, keeping the one containing it (log start moved).
  void TruncateFromStart(int64_t offset);
  const std::vector<EpochEntry>& entries() const { return entries_; }
  void Restore(std::vector<EpochEntry> entries) { entries_ = std::move(entries); }

 private:
  std::vector<EpochEntry> entries_;  // increasing epochs and start offsets
};

}  // namespace ksim

#endif  // KSIM_ENGINE_LOG_LEADER_EPOCH_CACHE_H_
