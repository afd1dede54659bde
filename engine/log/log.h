// A partition's log on a node's FileSystem: segment files named by their base offset
// (<dir>/00000000000000000000.log), each a sequence of record batches; an in-memory index of
// every batch's position (rebuilt on open); the log start offset, log end offset (LEO) and high
// watermark (HW); the leader-epoch cache with its checkpoint file; a high-watermark
// checkpoint file; segment rolling, retention and flush policy.
//
// Opening a log recovers it from what the disk kept: it scans the segments, stops at the first
// torn or unreadable batch and truncates the file there (the tail of a power loss), restores
// the epoch cache (cut back to the LEO) and the HW (clamped to the LEO).
//
// FileSystem calls block the calling fiber in virtual time. Invariants hold across them:
// the log's state changes only after a write succeeded.
#ifndef KSIM_ENGINE_LOG_LOG_H_
#define KSIM_ENGINE_LOG_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/log/leader_epoch_cache.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

// Kafka's log settings (log.* broker keys / topic overrides).
struct LogConfig {
  int64_t segment_bytes = 1073741824;
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // -1: unlimited
  int64_t retention_bytes = -1;
  int64_t flush_interval_messages = INT64_MAX;
  int64_t flush_interval_ms = INT64_MAX;
  bool compact = false;
};

struct LogAppendInfo {
  int64_t first_offset = -1;
  int64_t last_offset = -1;
};

class PartitionLog {
 public:
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(FileSystem& fs, std::string dir,
                                                            LogConfig config);

  // Assigns offsets from the LEO and the leader's epoch, then appends.
  absl::StatusOr<LogAppendInfo> AppendAsLeader(const BatchPtr& batch, int32_t leader_epoch,
                                               int64_t now_ms);
  // Appends a batch copied from the leader, keeping its offsets and epoch.
  // REQUIRES: batch->base_offset() == log_end_offset().
  absl::Status AppendAsFollower(const BatchPtr& batch);

  // Whole batches from the one containing `start_offset`, below `max_offset`, up to `max_bytes`
  // (at least one batch if `min_one_message`). OutOfRange if start is outside the log.
  absl::StatusOr<std::vector<BatchPtr>> Read(int64_t start_offset, int32_t max_bytes,
                                             int64_t max_offset, bool min_one_message);

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return log_end_offset_; }
  int64_t high_watermark() const { return high_watermark_; }
  // REQUIRES: log start <= hw <= LEO.
  void UpdateHighWatermark(int64_t hw);
  absl::Status CheckpointHighWatermark();

  // Removes everything at or above `offset`.
  void TruncateTo(int64_t offset);
  // Leader-epoch cache.
  void AssignEpoch(int32_t epoch, int64_t start_offset);
  int32_t LatestEpoch() const { return epochs_.LatestEpoch(); }
  EpochEndOffset EndOffsetForEpoch(int32_t epoch) const {
    return epochs_.EndOffsetFor(epoch, log_end_offset_);
  }
  const LeaderEpochCache& epoch_cache() const { return epochs_; }

  // Bytes of the batches in [from, to).
  int64_t BytesBetween(int64_t from, int64_t to) const;
  // Deletes closed segments past retention (time or size), below the HW.
  int DeleteOldSegments(int64_t now_ms);
  size_t segment_count() const { return segments_.size(); }
  int64_t size_bytes() const;
  const std::string& dir() const { return dir_; }

 private:
  struct BatchPos {
    int64_t segment = 0;  // base offset of its segment
    int64_t position = 0;
    int64_t size_bytes = 0;
    int64_t last_offset = 0;
  };
  struct Segment {
    std::string path;
    int64_t size_bytes = 0;
    int64_t created_ms = 0;
    int64_t max_timestamp_ms = -1;
    int64_t next_offset = 0;  // one past its last batch
  };
  PartitionLog(FileSystem& fs, std::string dir, LogConfig config);
  absl::Status Recover();
  absl::Status Write(const BatchPtr& batch, int64_t now_ms);
  void CheckpointEpochs();
  std::string SegmentPath(int64_t base_offset) const;

  FileSystem& fs_;
  std::string dir_;
  LogConfig config_;
  std::map<int64_t, Segment> segments_;  // by base offset
  std::map<int64_t, BatchPos> index_;    // by batch base offset
  LeaderEpochCache epochs_;
  int64_t log_start_offset_ = 0;
  int64_t log_end_offset_ = 0;
  int64_t high_watermark_ = 0;
  // Appends block on the disk; this keeps two appends (or an append and a truncation) from
  // interleaving and assigning the same offsets, like the lock on Kafka's UnifiedLog.
  Mutex write_mu_;
  int64_t unflushed_messages_ = 0;
  int64_t last_flush_ms_ = 0;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_LOG_LOG_H_
