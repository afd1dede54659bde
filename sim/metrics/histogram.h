// A log-linear latency histogram (HdrHistogram-style: 2 significant digits over the full
// int64 range) with exact count, sum, min and max. Constant memory, O(1) record.
#ifndef KSIM_SIM_METRICS_HISTOGRAM_H_
#define KSIM_SIM_METRICS_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace ksim {

class Histogram {
 public:
  void Record(int64_t value);
  void Merge(const Histogram& other);
  int64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The value below which `p` percent of recorded values fall (bucket upper bound, clamped to
  // the exact max).
  int64_t Percentile(double p) const;

 private:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two: < 1% error
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;
  static int Index(int64_t v);
  static int64_t UpperBound(int index);
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
};

}  // namespace ksim

#endif  // KSIM_SIM_METRICS_HISTOGRAM_H_
