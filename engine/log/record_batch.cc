#include "engine/log/record_batch.h"

#include <algorithm>

namespace ksim {

std::shared_ptr<const RecordBatch> RecordBatch::WithBaseOffset(int64_t base_offset,
                                                               int32_t leader_epoch) const {
  auto b = std::make_shared<RecordBatch>(*this);
  b->base_offset_ = base_offset;
  b->leader_epoch_ = leader_epoch;
  return b;
}

std::shared_ptr<const RecordBatch> RecordBatch::WithCompression(int8_t codec,
                                                                double ratio) const {
  auto b = std::make_shared<RecordBatch>(*this);
  b->compression_ = codec;
  b->size_bytes_ =
      kRecordBatchHeaderBytes + static_cast<int64_t>(static_cast<double>(raw_bytes_) * ratio + 0.5);
  return b;
}

void RecordBatchBuilder::Add(uint64_t record_id, int64_t key_hash, int32_t key_size,
                             int32_t value_size, int64_t timestamp_ms) {
  if (first_ts_ < 0) first_ts_ = timestamp_ms;
  max_ts_ = std::max(max_ts_, timestamp_ms);
  SyntheticRecord r;
  r.record_id = record_id;
  r.key_hash = key_hash;
  r.key_size = key_size;
  r.value_size = value_size;
  r.timestamp_delta = static_cast<int32_t>(timestamp_ms - first_ts_);
  records_.push_back(r);
  // Varint-framed record: ~10 bytes of headers, then key and value.
  raw_bytes_ += 10 + std::max(key_size, 0) + std::max(value_size, 0);
}

BatchPtr RecordBatchBuilder::Build(double compression_ratio) {
  KSIM_CHECK_MSG(!records_.empty(), "a record batch holds at least one record");
  auto b = std::make_shared<RecordBatch>();
  b->producer_id_ = producer_id_;
  b->producer_epoch_ = producer_epoch_;
  b->base_sequence_ = base_sequence_;
  b->compression_ = compression_;
  b->first_timestamp_ms_ = first_ts_;
  b->max_timestamp_ms_ = max_ts_;
  b->raw_bytes_ = raw_bytes_;
  b->size_bytes_ = kRecordBatchHeaderBytes +
                   static_cast<int64_t>(static_cast<double>(raw_bytes_) * compression_ratio + 0.5);
  records_.shrink_to_fit();
  b->records_ = std::make_shared<const std::vector<SyntheticRecord>>(std::move(records_));
  b->payload_ = std::move(payload_);
  records_.clear();
  raw_bytes_ = 0;
  first_ts_ = -1;
  max_ts_ = 0;
  return b;
}

}  // namespace ksim
