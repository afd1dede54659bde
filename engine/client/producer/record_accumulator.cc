#include "engine/client/producer/record_accumulator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

int64_t EstimateRecordBytes(int32_t key_size_bytes, int32_t value_size_bytes) {
  return 10 + std::max(key_size_bytes, 0) + value_size_bytes;
}

absl::StatusOr<bool> RecordAccumulator::Append(const TopicPartition& tp, PendingRecord& record,
                                               TimeNs now, TimeNs max_block_deadline) {
  const int64_t needed = record.size_bytes + kBatchHeaderBytes;
  if (needed > o_.buffer_memory_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The message is ", record.size_bytes,
        " bytes when serialized which is larger than the total memory buffer you have "
        "configured with the buffer.memory configuration."));
  }
  auto& q = queues_[tp];
  if (!q.empty() && !q.back()->closed &&
      q.back()->size_bytes + record.size_bytes <= o_.batch_size_bytes) {
    // The batch's buffer (batch.size bytes) was taken from buffer.memory when it was created.
    ProducerBatch& b = *q.back();
    b.size_bytes += record.size_bytes;
    b.records.push_back(std::move(record));
    return b.size_bytes >= o_.batch_size_bytes;
  }
  // A new batch: allocate max(batch.size, record) bytes of buffer, waiting for room.
  const int64_t alloc = std::max<int64_t>(o_.batch_size_bytes, needed);
  while (used_bytes_ + alloc > o_.buffer_memory_bytes) {
    if (space_waiters_.Wait(max_block_deadline) == WakeReason::kTimedOut &&
        used_bytes_ + alloc > o_.buffer_memory_bytes) {
      return absl::DeadlineExceededError(
          "Failed to allocate memory within the configured max blocking time");
    }
  }
  auto b = std::make_unique<ProducerBatch>();
  b->tp = tp;
  b->created = now;
  expiry_check_at_ = std::min(expiry_check_at_, DeadlineAfter(now, o_.delivery_timeout_ns));
  b->size_bytes = kBatchHeaderBytes + record.size_bytes;
  b->allocated_bytes = alloc;
  b->records.push_back(std::move(record));
  used_bytes_ += alloc;
  const bool full = b->size_bytes >= o_.batch_size_bytes;
  if (!q.empty()) q.back()->closed = true;
  q.push_back(std::move(b));
  return full || q.size() > 1;
}

int32_t RecordAccumulator::QueuedBatches(const TopicPartition& tp) const {
  auto it = queues_.find(tp);
  return it == queues_.end() ? 0 : static_cast<int32_t>(it->second.size());
}

bool RecordAccumulator::AllBatchesFull(const TopicPartition& tp) const {
  auto it = queues_.find(tp);
  if (it == queues_.end() || it->second.empty()) return true;
  const ProducerBatch& last = *it->second.back();
  return last.closed || last.size_bytes >= o_.batch_size_bytes;
}

std::vector<TopicPartition> RecordAccumulator::Ready(TimeNs now, TimeNs* next_check) const {
  std::vector<TopicPartition> out;
  *next_check = kForever;
  for (const auto& [tp, q] : queues_) {
    if (q.empty() || muted_.count(tp) > 0) continue;
    const ProducerBatch& b = *q.front();
    TimeNs sendable_at;
    if (b.in_retry()) {
      sendable_at = b.last_attempt + o_.retry_backoff_ns;
    } else if (q.size() > 1 || b.closed || b.size_bytes >= o_.batch_size_bytes || flushes_ > 0) {
      sendable_at = now;
    } else {
      sendable_at = b.created + o_.linger_ns;
    }
    if (sendable_at <= now) {
      out.push_back(tp);
    } else {
      *next_check = std::min(*next_check, sendable_at);
    }
  }
  return out;
}

std::unique_ptr<ProducerBatch> RecordAccumulator::Drain(const TopicPartition& tp, TimeNs now) {
  auto& q = queues_.at(tp);
  KSIM_CHECK(!q.empty());
  std::unique_ptr<ProducerBatch> b = std::move(q.front());
  q.pop_front();
  b->closed = true;
  b->last_attempt = now;
  ++b->attempts;
  return b;
}

void RecordAccumulator::Reenqueue(std::unique_ptr<ProducerBatch> batch, TimeNs now) {
  batch->last_attempt = now;
  expiry_check_at_ =
      std::min(expiry_check_at_, DeadlineAfter(batch->created, o_.delivery_timeout_ns));
  auto& q = queues_[batch->tp];
  // Retried batches go first, ordered by sequence, as Kafka's insertInSequenceOrder does.
  auto pos = q.begin();
  while (pos != q.end() && (*pos)->in_retry() && (*pos)->base_sequence >= 0 &&
         (*pos)->base_sequence < batch->base_sequence) {
    ++pos;
  }
  q.insert(pos, std::move(batch));
}

bool RecordAccumulator::HeadIsSequenced(const TopicPartition& tp) const {
  auto it = queues_.find(tp);
  return it != queues_.end() && !it->second.empty() && it->second.front()->base_sequence >= 0;
}

void RecordAccumulator::ResetSequences(const TopicPartition& tp) {
  auto it = queues_.find(tp);
  if (it == queues_.end()) return;
  for (auto& b : it->second) b->base_sequence = -1;
}

void RecordAccumulator::Deallocate(const ProducerBatch& batch) {
  KSIM_CHECK(batch.allocated_bytes > 0 && batch.allocated_bytes <= used_bytes_);
  used_bytes_ -= batch.allocated_bytes;
  space_waiters_.NotifyAll();
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::Expire(TimeNs now) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  // The sender asks at every wake-up; nothing can have expired before the bound.
  if (now < expiry_check_at_) return out;
  expiry_check_at_ = kForever;
  for (auto& [tp, q] : queues_) {
    while (!q.empty() && now - q.front()->created >= o_.delivery_timeout_ns) {
      out.push_back(std::move(q.front()));
      q.pop_front();
    }
    for (const auto& b : q) {
      expiry_check_at_ =
          std::min(expiry_check_at_, DeadlineAfter(b->created, o_.delivery_timeout_ns));
    }
  }
  return out;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::AbortAll() {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  for (auto& [tp, q] : queues_) {
    for (auto& b : q) out.push_back(std::move(b));
    q.clear();
  }
  return out;
}

bool RecordAccumulator::HasUnsent() const {
  for (const auto& [tp, q] : queues_) {
    if (!q.empty()) return true;
  }
  return false;
}

}  // namespace ksim
