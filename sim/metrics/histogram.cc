#include "sim/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace ksim {

int Histogram::Index(int64_t v) {
  if (v < 0) v = 0;
  const uint64_t u = static_cast<uint64_t>(v);
  if (u < (1u << kSubBits)) return static_cast<int>(u);
  const int msb = 63 - __builtin_clzll(u);
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((u >> shift) & ((1u << kSubBits) - 1));
  return ((shift + 1) << kSubBits) + sub;
}

int64_t Histogram::UpperBound(int index) {
  const int group = index >> kSubBits;
  const int64_t sub = index & ((1 << kSubBits) - 1);
  if (group == 0) return sub;
  const int shift = group - 1;
  return (((int64_t{1} << kSubBits) + sub + 1) << shift) - 1;
}

void Histogram::Record(int64_t value) {
  ++counts_[Index(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

int64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p / 100.0 * count_)));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperBound(i), max_);
  }
  return max_;
}

}  // namespace ksim
