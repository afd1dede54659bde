#include "sim/metrics/histogram.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(HistogramTest, PercentilesWithinOnePercent) {
  Histogram h;
  for (int64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);
  EXPECT_EQ(h.count(), 100000);
  EXPECT_EQ(h.min(), 1000);
  EXPECT_EQ(h.max(), 100000000);
  EXPECT_NEAR(h.mean(), 50000500.0, 1);
  for (double p : {50.0, 95.0, 99.0, 99.9}) {
    double exact = p / 100.0 * 100000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.Percentile(p)), exact, exact * 0.01) << p;
  }
  EXPECT_EQ(h.Percentile(100), h.max());
}

TEST(HistogramTest, SmallValuesAreExactAndMergeAdds) {
  Histogram a, b;
  for (int v = 0; v < 100; ++v) a.Record(v);
  b.Record(5);
  a.Merge(b);
  EXPECT_EQ(a.count(), 101);
  EXPECT_EQ(a.Percentile(50), 49);
  Histogram empty;
  EXPECT_EQ(empty.Percentile(99), 0);
}

}  // namespace
}  // namespace ksim
