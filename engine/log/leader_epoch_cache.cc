#include "engine/log/leader_epoch_cache.h"

#include <algorithm>

#include "engine/runtime/check.h"

namespace ksim {

bool LeaderEpochCache::Assign(int32_t epoch, int64_t start_offset) {
  KSIM_CHECK(epoch >= 0 && start_offset >= 0);
  if (!entries_.empty() && epoch <= entries_.back().epoch) return false;
  // Entries that claim to start at or after this one are stale.
  while (!entries_.empty() && entries_.back().start_offset >= start_offset) entries_.pop_back();
  entries_.push_back({epoch, start_offset});
  for (size_t i = 1; i < entries_.size(); ++i) {
    KSIM_CHECK_MSG(entries_[i].epoch > entries_[i - 1].epoch &&
                       entries_[i].start_offset > entries_[i - 1].start_offset,
                   "leader epochs and their start offsets increase");
  }
  return true;
}

EpochEndOffset LeaderEpochCache::EndOffsetFor(int32_t requested, int64_t log_end_offset) const {
  if (entries_.empty() || requested < 0 || requested > entries_.back().epoch) return {};
  // An epoch older than any we know ends where our first known epoch starts (Kafka answers
  // the requested epoch with that offset).
  if (requested < entries_.front().epoch) return {requested, entries_.front().start_offset};
  auto next = std::upper_bound(entries_.begin(), entries_.end(), requested,
                               [](int32_t e, const EpochEntry& x) { return e < x.epoch; });
  const EpochEntry& found = *(next - 1);
  return {found.epoch, next == entries_.end() ? log_end_offset : next->start_offset};
}

void LeaderEpochCache::TruncateFromEnd(int64_t offset) {
  while (!entries_.empty() && entries_.back().start_offset >= offset) entries_.pop_back();
}

void LeaderEpochCache::TruncateFromStart(int64_t offset) {
  while (entries_.size() > 1 && entries_[1].start_offset <= offset) {
    entries_.erase(entries_.begin());
  }
  if (!entries_.empty() && entries_.front().start_offset < offset) {
    entries_.front().start_offset = offset;
  }
}

}  // namespace ksim
