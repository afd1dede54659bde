// The producer's RecordAccumulator: per-partition queues of batches that fill up to
// batch.size, become sendable when full, when linger.ms has passed, on flush or close, and
// bounded in total by buffer.memory (send() blocks up to max.block.ms for room).
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_RECORD_ACCUMULATOR_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_RECORD_ACCUMULATOR_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/client/producer/record.h"
#include "engine/protocol/api.h"
#include "engine/runtime/sync.h"

namespace ksim {

struct RecordMetadata;

// What send() learns about its record.
using SendResult = absl::StatusOr<RecordMetadata>;
using SendCallback = std::function<void(const SendResult&)>;

struct PendingRecord {
  uint64_t record_id = 0;
  int64_t key_hash = 0;
  int32_t key_size_bytes = -1;  // -1: no key
  int32_t value_size_bytes = 0;
  int64_t timestamp_ms = 0;
  int64_t size_bytes = 0;  // estimated bytes in the batch
  SimRecord record;        // as sent (after interceptors), for observers and interceptors
  SendCallback callback;   // the application's; may be empty
};

struct ProducerBatch {
  TopicPartition tp;
  std::vector<PendingRecord> records;
  int64_t size_bytes = 0;  // estimated, including the batch header
  int64_t allocated_bytes = 0;  // taken from buffer.memory: max(batch.size, first record)
  TimeNs created = 0;
  TimeNs last_attempt = -1;
  int32_t attempts = 0;
  bool closed = false;  // no more appends (sent at least once, or full)
  // Idempotence: assigned when first drained, kept across retries.
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool in_retry() const { return attempts > 0; }
};

class RecordAccumulator {
 public:
  struct Options {
    int32_t batch_size_bytes = 16384;
    DurationNs linger_ns = 5 * kMillisecond;
    int64_t buffer_memory_bytes = 33554432;
    DurationNs retry_backoff_ns = 100 * kMillisecond;
    DurationNs delivery_timeout_ns = 120 * kSecond;
  };
  explicit RecordAccumulator(Options o) : o_(o) {}

  // Appends a record to the partition's last open batch (or a new one), blocking for buffer
  // space until `max_block_deadline`. Returns whether a batch became full (wake the sender).
  // `record` is moved into the batch on success and left as it was on error.
  absl::StatusOr<bool> Append(const TopicPartition& tp, PendingRecord& record, TimeNs now,
                              TimeNs max_block_deadline);
  // Partitions whose first batch may be sent now, and the earliest time another becomes
  // sendable (linger or backoff expiry).
  std::vector<TopicPartition> Ready(TimeNs now, TimeNs* next_check) const;
  // Takes the first batch of `tp` for sending (REQUIRES: Ready listed it).
  std::unique_ptr<ProducerBatch> Drain(const TopicPartition& tp, TimeNs now);
  // Puts a batch back for retry, in sequence order among retried batches.
  void Reenqueue(std::unique_ptr<ProducerBatch> batch, TimeNs now);
  // Releases the buffer space of a completed batch.
  void Deallocate(const ProducerBatch& batch);
  // Forgets the sequence numbers of the queued batches of `tp` (an epoch bump restarts the
  // partition's sequences at 0; they are numbered again when drained).
  void ResetSequences(const TopicPartition& tp);
  // Whether the first queued batch of `tp` already has a sequence number (a retry).
  bool HeadIsSequenced(const TopicPartition& tp) const;
  // Removes batches that waited longer than delivery.timeout.ms.
  std::vector<std::unique_ptr<ProducerBatch>> Expire(TimeNs now);
  // Removes everything (close(0)).
  std::vector<std::unique_ptr<ProducerBatch>> AbortAll();

  void BeginFlush() { ++flushes_; }
  void EndFlush() { --flushes_; }
  bool HasUnsent() const;
  int64_t buffered_bytes() const { return used_bytes_; }
  // Batches queued for `tp` (not yet sent), and whether all of them are full.
  int32_t QueuedBatches(const TopicPartition& tp) const;
  bool AllBatchesFull(const TopicPartition& tp) const;
  // A partition is muted while one of its batches is in flight, when ordering requires it.
  void Mute(const TopicPartition& tp) { muted_[tp] = true; }
  void Unmute(const TopicPartition& tp) { muted_.erase(tp); }

 private:
  Options o_;
  std::map<TopicPartition, std::deque<std::unique_ptr<ProducerBatch>>> queues_;
  std::map<TopicPartition, bool> muted_;
  int64_t used_bytes_ = 0;
  int flushes_ = 0;
  WaitList space_waiters_;
  // No queued batch expires before this time (a lower bound: Expire() skips its scan until
  // then; batches created or put back lower it).
  TimeNs expiry_check_at_ = kForever;
};

// Estimated size of a record inside a v2 batch (varint headers ~ 10 bytes + key + value).
int64_t EstimateRecordBytes(int32_t key_size_bytes, int32_t value_size_bytes);
inline constexpr int64_t kBatchHeaderBytes = 61;

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_RECORD_ACCUMULATOR_H_
