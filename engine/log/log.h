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
#include <functional>
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
  // cleanup.policy: "delete", "compact" or "compact,delete".
  bool compact = false;
  bool delete_retention = true;  // the policy includes "delete" (retention deletes segments)
  // Compaction (topic keys; broker log.cleaner.* defaults).
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = INT64_MAX;
  int64_t delete_retention_ms = 86400000;  // how long tombstones survive once cleaned
};

// What the log cleaner sees of a compacted log (Kafka's LogToClean): the clean section
// [log start, first dirty), the dirty section [first dirty, first uncleanable), both in whole
// closed segments below the high watermark.
struct CleanableLog {
  int64_t first_dirty_offset = 0;
  int64_t first_uncleanable_offset = 0;
  int64_t clean_bytes = 0;
  int64_t dirty_bytes = 0;
  bool max_lag_exceeded = false;  // max.compaction.lag.ms forces a clean (KIP-354)
  double dirty_ratio() const {
    const int64_t total = clean_bytes + dirty_bytes;
    return total == 0 ? 0.0 : static_cast<double>(dirty_bytes) / static_cast<double>(total);
  }
  // Kafka's grabFilthiestCompactedLog: cleanable ratio above the minimum, or lag exceeded.
  bool NeedsCleaning(double min_ratio) const {
    return dirty_bytes > 0 && (max_lag_exceeded || dirty_ratio() > min_ratio);
  }
};

struct CleanStats {
  bool cleaned = false;  // false: nothing to clean, or aborted (the log changed underneath)
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  int64_t records_read = 0;
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  int segments_in = 0;
  int segments_out = 0;
  int64_t end_offset = 0;  // the new first dirty offset
};

// The log cleaner's CPU: called with the bytes of each pass (offset map, rewrite); the broker
// turns them into Runtime::Compute time.
using CleanerCpu = std::function<void(int64_t map_bytes, int64_t clean_bytes)>;

struct LogAppendInfo {
  int64_t first_offset = -1;
  int64_t last_offset = -1;
};

class PartitionLog {
 public:
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(FileSystem& fs, std::string dir,
                                                            LogConfig config);
  ~PartitionLog();

  // Assigns offsets from the LEO and the leader's epoch, then appends.
  absl::StatusOr<LogAppendInfo> AppendAsLeader(const BatchPtr& batch, int32_t leader_epoch,
                                               int64_t now_ms);
  // Appends a batch copied from the leader, keeping its offsets and epoch.
  // REQUIRES: batch->base_offset() <= log_end_offset() <= batch->last_offset(); a batch
  // starting below the LEO (one the leader compacted) is appended from the LEO on.
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
  // Base offset of the active (last) segment, the one appends go to.
  int64_t active_segment_base() const {
    return segments_.empty() ? log_end_offset_ : segments_.rbegin()->first;
  }
  int64_t size_bytes() const;
  const std::string& dir() const { return dir_; }

  // The topic was deleted: waits for an append in progress, deletes every file of the log and
  // makes later appends fail and checkpoints do nothing (a fiber blocked in one must not
  // recreate a file of the deleted log).
  void DeleteAllFiles();
  bool deleted() const { return !*alive_; }

  // --- Recovery point (Kafka's recovery-point-offset-checkpoint). ---
  // Everything below it is on the device with its index file; recovery after a crash rescans
  // only the segments from it on and loads the others from their index files.
  int64_t recovery_point() const { return recovery_point_; }
  // Kafka's flush after a roll: fsyncs the closed segments not yet flushed, writes their
  // index files (offset and time index, batch epochs and producers), and advances the
  // recovery point to the active segment. Blocks the calling fiber on the disk (not appends).
  absl::Status FlushClosedSegments();
  // Writes the recovery point (every log.flush.offset.checkpoint.interval.ms).
  absl::Status CheckpointRecoveryPoint();
  // What the last Recover() did: segments loaded from index files and segments rescanned.
  int segments_loaded_from_index() const { return segments_loaded_from_index_; }
  int segments_rescanned() const { return segments_rescanned_; }

  // --- Log compaction (engine/log/log_cleaner.cc), Kafka's LogCleaner on this log. ---
  // The clean and dirty sections under `config` (the topic's settings) at `now_ms`.
  CleanableLog Cleanable(const LogConfig& config, int64_t now_ms) const;
  // One cleaning pass: builds the offset map (key hash -> latest offset) over the dirty
  // section, then rewrites every closed segment below the first uncleanable offset in groups
  // of at most segment.bytes, keeping the latest record per key and tombstones younger than
  // their delete horizon. Offsets are kept (holes allowed); the log start, LEO, HW and epoch
  // cache do not move. Each group is written to a new file, fsynced, and swapped in by an
  // atomic cleaner checkpoint, so a crash at any point recovers either the old or the new
  // segments.
  CleanStats Clean(const LogConfig& config, int64_t now_ms, const CleanerCpu& cpu);
  int64_t first_dirty_offset() const { return std::max(first_dirty_offset_, log_start_offset_); }
  // The topic's settings, once known (a log recovered at boot opens with the broker defaults).
  void set_config(const LogConfig& config) { config_ = config; }
  const LogConfig& config() const { return config_; }
  bool cleaning() const { return cleaning_; }

 private:
  struct BatchPos {
    int64_t segment = 0;  // base offset of its segment
    int64_t position = 0;
    int64_t size_bytes = 0;
    int64_t last_offset = 0;
    // For the segment's index file (unset in cleaned segments, which are never indexed).
    int64_t producer_id = -1;
    int32_t leader_epoch = -1;
  };
  struct Segment {
    std::string path;  // <base>.log, or <base>.c<generation>.log once cleaned
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
  std::string CleanedSegmentPath(int64_t base_offset, int64_t generation) const;
  absl::Status RecoverCleanerState();
  // A closed segment's index file, next to it: <base>.index or <base>.c<generation>.index.
  static std::string IndexPath(const std::string& segment_path);
  // Deletes a segment file and its index file.
  void DeleteSegmentFiles(const std::string& segment_path);
  // Loads a segment below the recovery point from its index file; false if it cannot be
  // trusted (no index, or it does not match the segment file), and then it is rescanned.
  bool LoadFromIndex(int64_t base, const std::string& path, int64_t recovery_point);
  absl::Status WriteCleanerCheckpoint(std::vector<std::string> obsolete, int64_t first_dirty);

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
  // Compaction state: the cleaned prefix, the generation of the last committed clean (the
  // suffix of cleaned segment files), and each producer's last batch (its last offset), which
  // the cleaner keeps even when empty so the producer's sequence survives (Kafka's rule).
  int64_t recovery_point_ = 0;
  int64_t truncations_ = 0;  // bumped by every cut: a flush running meanwhile does not advance
  int segments_loaded_from_index_ = 0;
  int segments_rescanned_ = 0;
  int64_t first_dirty_offset_ = 0;
  int64_t cleaner_generation_ = 0;
  std::map<int64_t, int64_t> producer_last_offset_;
  bool cleaning_ = false;
  // The cleaner checkpoint on disk names replaced files: rewritten without them before a
  // truncation, after which a new segment could take one of their names.
  bool checkpoint_lists_obsolete_ = false;
  // Cleared when the log is destroyed, so a cleaner blocked on the disk can notice.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ksim

#endif  // KSIM_ENGINE_LOG_LOG_H_
