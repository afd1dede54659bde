// A record batch as Kafka's v2 format describes it, kept in memory instead of bytes. Payloads
// are synthetic by default: a record is its id (for the history checker), key hash and sizes,
// in 32 bytes. The leader re-bases a producer's batch onto its log with WithBaseOffset(),
// which shares the records rather than copying them.
#ifndef KSIM_ENGINE_LOG_RECORD_BATCH_H_
#define KSIM_ENGINE_LOG_RECORD_BATCH_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/runtime/check.h"
#include "engine/runtime/runtime.h"

namespace ksim {

inline constexpr int64_t kRecordBatchHeaderBytes = 61;  // v2 batch header

struct SyntheticRecord {
  uint64_t record_id = 0;     // 0: unknown
  int64_t key_hash = 0;       // identifies the key (compaction); meaningful if key_size >= 0
  int32_t key_size = -1;      // -1: null key
  int32_t value_size = 0;     // -1: null value (a tombstone)
  int32_t timestamp_delta = 0;
  int32_t reserved = 0;
};
static_assert(sizeof(SyntheticRecord) <= 32, "32 bytes per synthetic record");

class RecordBatch final : public Payload {
 public:
  int64_t base_offset() const { return base_offset_; }
  // The batch covers offsets [base_offset, last_offset]. Its records sit at consecutive offsets
  // from base_offset (record i at base_offset + i); after compaction the offsets past the last
  // record up to last_offset are holes (records the cleaner removed).
  int64_t last_offset() const { return base_offset_ + last_offset_delta_; }
  int32_t record_count() const { return static_cast<int32_t>(records_->size()); }
  int32_t partition_leader_epoch() const { return leader_epoch_; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }
  int32_t base_sequence() const { return base_sequence_; }
  int32_t last_sequence() const { return last_sequence_; }
  int64_t first_timestamp_ms() const { return first_timestamp_ms_; }
  int64_t max_timestamp_ms() const { return max_timestamp_ms_; }
  int8_t compression() const { return compression_; }
  int64_t size_bytes() const { return size_bytes_; }
  // The records' bytes before compression.
  int64_t raw_bytes() const { return raw_bytes_; }
  const SyntheticRecord& record(int32_t i) const { return (*records_)[static_cast<size_t>(i)]; }
  uint64_t record_id(int32_t i) const { return record(i).record_id; }
  int32_t value_size(int32_t i) const { return record(i).value_size; }
  int64_t key_hash(int32_t i) const { return record(i).key_hash; }
  // Optional real content (e.g. an offset commit in __consumer_offsets).
  const PayloadPtr& payload() const { return payload_; }
  // KIP-534: when the log cleaner may drop this batch's tombstones (-1: not cleaned yet).
  int64_t delete_horizon_ms() const { return delete_horizon_ms_; }
  // False for the second and later pieces of a batch the cleaner split: the header bytes are
  // counted once, on the first piece, so the pieces weigh what Kafka's one cleaned batch does.
  bool carries_header() const { return header_; }
  // Bytes a record takes in a v2 batch before compression: ~10 bytes of varint framing and
  // headers, then key and value.
  static int64_t RecordRawBytes(const SyntheticRecord& r) {
    return 10 + std::max(r.key_size, 0) + std::max(r.value_size, 0);
  }

  // --- Compaction (the log cleaner) ---
  // A piece of this batch after cleaning: `records` at consecutive offsets from `base_offset`,
  // covering [base_offset, last_offset]. It takes the header bytes if `with_header` and the
  // producer identity and sequences of this batch if `with_producer` (else none: -1).
  std::shared_ptr<const RecordBatch> CleanedPiece(int64_t base_offset, int64_t last_offset,
                                                  std::vector<SyntheticRecord> records,
                                                  bool with_header, bool with_producer,
                                                  int64_t delete_horizon_ms) const;
  // A copy covering offsets up to `last_offset` (holes the cleaner left after it).
  std::shared_ptr<const RecordBatch> WithLastOffset(int64_t last_offset) const;
  // The part of this batch from `offset` (inside it) on: what a follower whose log ends inside
  // a batch the leader compacted appends.
  std::shared_ptr<const RecordBatch> Suffix(int64_t offset) const;

  // A copy placed at `base_offset` in a log, stamped with the leader's epoch.
  std::shared_ptr<const RecordBatch> WithBaseOffset(int64_t base_offset,
                                                    int32_t leader_epoch) const;
  // A copy recompressed with `codec` at `ratio` (a broker whose compression.type differs).
  std::shared_ptr<const RecordBatch> WithCompression(int8_t codec, double ratio) const;
  // Memory this batch holds (for the 32-bytes-per-record budget).
  size_t memory_bytes() const {
    return sizeof(*this) + records_->capacity() * sizeof(SyntheticRecord);
  }

 private:
  friend class RecordBatchBuilder;
  int64_t base_offset_ = 0;
  int32_t leader_epoch_ = -1;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  int32_t last_sequence_ = -1;
  int32_t last_offset_delta_ = -1;
  int64_t first_timestamp_ms_ = 0;
  int64_t max_timestamp_ms_ = 0;
  int64_t delete_horizon_ms_ = -1;
  bool header_ = true;
  int8_t compression_ = 0;
  int64_t size_bytes_ = kRecordBatchHeaderBytes;
  int64_t raw_bytes_ = 0;
  std::shared_ptr<const std::vector<SyntheticRecord>> records_;
  PayloadPtr payload_;
};

using BatchPtr = std::shared_ptr<const RecordBatch>;

class RecordBatchBuilder {
 public:
  void set_producer(int64_t producer_id, int16_t epoch, int32_t base_sequence) {
    producer_id_ = producer_id;
    producer_epoch_ = epoch;
    base_sequence_ = base_sequence;
  }
  void set_compression(int8_t codec) { compression_ = codec; }
  void set_payload(PayloadPtr p) { payload_ = std::move(p); }
  void Add(uint64_t record_id, int64_t key_hash, int32_t key_size, int32_t value_size,
           int64_t timestamp_ms);
  // `compression_ratio` scales the record bytes (the header is not compressed).
  BatchPtr Build(double compression_ratio = 1.0);
  bool empty() const { return records_.empty(); }

 private:
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  int8_t compression_ = 0;
  int64_t first_ts_ = -1;
  int64_t max_ts_ = 0;
  int64_t raw_bytes_ = 0;
  std::vector<SyntheticRecord> records_;
  PayloadPtr payload_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_LOG_RECORD_BATCH_H_
