// Broker-side idempotent-producer state of one partition: per producer id, its epoch and the
// last five batches' sequence ranges (Kafka keeps five, matching the producer's in-flight
// limit), to detect duplicates of retried batches and gaps in sequences.
#ifndef KSIM_ENGINE_BROKER_PRODUCER_STATE_H_
#define KSIM_ENGINE_BROKER_PRODUCER_STATE_H_

#include <cstdint>
#include <deque>
#include <map>

#include "engine/protocol/errors.h"

namespace ksim {

inline constexpr int64_t kNoProducerId = -1;
inline constexpr int kProducerBatchesKept = 5;

struct BatchSequence {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
};

class ProducerStateTable {
 public:
  struct Verdict {
    Error error = Error::kNone;
    bool duplicate = false;  // already appended: answer with the original offsets
    int64_t duplicate_first_offset = -1;
  };

  // Checks a batch before a leader appends it (Kafka's ProducerStateManager validation).
  Verdict Check(int64_t producer_id, int16_t epoch, int32_t first_seq, int32_t last_seq) const;
  // Records an appended batch (leader or follower).
  void Record(int64_t producer_id, int16_t epoch, const BatchSequence& batch);
  // Forgets batches at or above `offset` (log truncation).
  void TruncateFrom(int64_t offset);
  void Clear() { producers_.clear(); }
  size_t size() const { return producers_.size(); }

 private:
  struct Entry {
    int16_t epoch = 0;
    std::deque<BatchSequence> batches;  // oldest first, at most kProducerBatchesKept
  };
  std::map<int64_t, Entry> producers_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_PRODUCER_STATE_H_
