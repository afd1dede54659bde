#include "engine/broker/producer_state.h"

#include "engine/runtime/check.h"

namespace ksim {

ProducerStateTable::Verdict ProducerStateTable::Check(int64_t producer_id, int16_t epoch,
                                                      int32_t first_seq,
                                                      int32_t last_seq) const {
  Verdict v;
  if (producer_id == kNoProducerId) return v;
  auto it = producers_.find(producer_id);
  if (it == producers_.end() || it->second.batches.empty()) {
    // A new producer (or one whose state was truncated away) must start at sequence 0, unless
    // it bumped its epoch: any sequence is then accepted as the start.
    if (it != producers_.end() && epoch < it->second.epoch) {
      v.error = Error::kInvalidProducerEpoch;
    } else if (first_seq != 0 && (it == producers_.end() || epoch == it->second.epoch)) {
      v.error = Error::kOutOfOrderSequenceNumber;
    }
    return v;
  }
  const Entry& e = it->second;
  if (epoch < e.epoch) {
    v.error = Error::kInvalidProducerEpoch;
    return v;
  }
  if (epoch > e.epoch) {
    if (first_seq != 0) v.error = Error::kOutOfOrderSequenceNumber;
    return v;
  }
  for (const BatchSequence& b : e.batches) {
    if (b.first_seq == first_seq && b.last_seq == last_seq) {
      v.duplicate = true;
      v.duplicate_first_offset = b.first_offset;
      return v;
    }
  }
  const int32_t expected = e.batches.back().last_seq + 1;  // wraps like Java's int
  if (first_seq != expected) v.error = Error::kOutOfOrderSequenceNumber;
  return v;
}

void ProducerStateTable::Record(int64_t producer_id, int16_t epoch, const BatchSequence& batch) {
  if (producer_id == kNoProducerId) return;
  KSIM_CHECK(batch.last_offset >= batch.first_offset);
  Entry& e = producers_[producer_id];
  if (epoch > e.epoch) {
    e.epoch = epoch;
    e.batches.clear();
  }
  e.batches.push_back(batch);
  while (e.batches.size() > static_cast<size_t>(kProducerBatchesKept)) e.batches.pop_front();
}

void ProducerStateTable::TruncateFrom(int64_t offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.back().last_offset >= offset) batches.pop_back();
    it = batches.empty() ? producers_.erase(it) : std::next(it);
  }
}

}  // namespace ksim
