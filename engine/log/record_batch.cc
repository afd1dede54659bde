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

std::shared_ptr<const RecordBatch> RecordBatch::CleanedPiece(
    int64_t base_offset, int64_t last_offset, std::vector<SyntheticRecord> records,
    bool with_header, bool with_producer, int64_t delete_horizon_ms) const {
  KSIM_CHECK(last_offset >= base_offset &&
             last_offset - base_offset + 1 >= static_cast<int64_t>(records.size()));
  auto b = std::make_shared<RecordBatch>(*this);
  b->base_offset_ = base_offset;
  b->last_offset_delta_ = static_cast<int32_t>(last_offset - base_offset);
  if (!with_producer) {
    b->producer_id_ = -1;
    b->producer_epoch_ = -1;
    b->base_sequence_ = -1;
    b->last_sequence_ = -1;
  }
  b->delete_horizon_ms_ = delete_horizon_ms;
  int64_t raw = 0;
  for (const SyntheticRecord& r : records) raw += RecordRawBytes(r);
  // The records keep the batch's compression ratio; the header is not compressed.
  const int64_t header = header_ ? kRecordBatchHeaderBytes : 0;
  const double ratio = raw_bytes_ > 0 ? static_cast<double>(size_bytes_ - header) /
                                            static_cast<double>(raw_bytes_)
                                      : 1.0;
  b->raw_bytes_ = raw;
  b->header_ = with_header || records.empty();
  b->size_bytes_ = (b->header_ ? kRecordBatchHeaderBytes : 0) +
                   static_cast<int64_t>(static_cast<double>(raw) * ratio + 0.5);
  records.shrink_to_fit();
  b->records_ = std::make_shared<const std::vector<SyntheticRecord>>(std::move(records));
  if (b->records_->empty() && !with_producer) b->payload_ = nullptr;
  return b;
}

std::shared_ptr<const RecordBatch> RecordBatch::WithLastOffset(int64_t last_offset) const {
  KSIM_CHECK(last_offset >= base_offset_ + record_count() - 1);
  auto b = std::make_shared<RecordBatch>(*this);
  b->last_offset_delta_ = static_cast<int32_t>(last_offset - base_offset_);
  return b;
}

std::shared_ptr<const RecordBatch> RecordBatch::Suffix(int64_t offset) const {
  KSIM_CHECK(offset >= base_offset_ && offset <= last_offset());
  if (offset == base_offset_) return std::make_shared<RecordBatch>(*this);
  const int64_t skip = std::min<int64_t>(offset - base_offset_, record_count());
  std::vector<SyntheticRecord> rest(records_->begin() + skip, records_->end());
  return CleanedPiece(offset, last_offset(), std::move(rest), /*with_header=*/header_,
                      /*with_producer=*/true, delete_horizon_ms_);
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
  raw_bytes_ += RecordBatch::RecordRawBytes(r);
}

BatchPtr RecordBatchBuilder::Build(double compression_ratio) {
  KSIM_CHECK_MSG(!records_.empty(), "a record batch holds at least one record");
  auto b = std::make_shared<RecordBatch>();
  b->producer_id_ = producer_id_;
  b->producer_epoch_ = producer_epoch_;
  b->base_sequence_ = base_sequence_;
  b->last_sequence_ =
      base_sequence_ < 0 ? -1 : base_sequence_ + static_cast<int32_t>(records_.size()) - 1;
  b->last_offset_delta_ = static_cast<int32_t>(records_.size()) - 1;
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
