#include "engine/runtime/rng.h"

#include <set>

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(RngTest, SameSeedSameSequence) {
  Rng a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next());
}

TEST(RngTest, DifferentSeedsDiffer) {
  Rng a(1), b(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.Next() == b.Next();
  EXPECT_EQ(same, 0);
}

TEST(RngTest, NamedStreamsDependOnlyOnSeedAndName) {
  // Creating other streams in between must not change a stream's draws.
  Rng s1 = Rng::Stream(7, "broker-1/fetcher");
  Rng other = Rng::Stream(7, "network");
  other.Next();
  Rng s2 = Rng::Stream(7, "broker-1/fetcher");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(s1.Next(), s2.Next());
  EXPECT_NE(Rng::Stream(7, "a").Next(), Rng::Stream(7, "b").Next());
  EXPECT_NE(Rng::Stream(7, "a").Next(), Rng::Stream(8, "a").Next());
}

TEST(RngTest, UniformStaysInRangeAndCoversIt) {
  Rng r(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = r.Uniform(13);
    ASSERT_LT(v, 13u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 13u);
  for (int i = 0; i < 1000; ++i) {
    int64_t v = r.Range(1, 13);
    ASSERT_GE(v, 1);
    ASSERT_LE(v, 13);
  }
}

TEST(RngTest, ExponentialHasRoughlyTheRequestedMean) {
  Rng r(9);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) sum += r.Exponential(5.0);
  EXPECT_NEAR(sum / n, 5.0, 0.1);
}

TEST(RngTest, ForkIsStableAndIndependentOfParentDraws) {
  Rng parent(11);
  Rng c1 = parent.Fork("x");
  Rng c2 = parent.Fork("x");
  EXPECT_EQ(c1.Next(), c2.Next());
  EXPECT_NE(parent.Fork("x").Next(), parent.Fork("y").Next());
}

}  // namespace
}  // namespace ksim
