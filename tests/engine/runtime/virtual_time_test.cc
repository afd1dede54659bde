#include "engine/runtime/virtual_time.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(TimeTest, UnitsAreNanoseconds) {
  EXPECT_EQ(kMicrosecond, 1000);
  EXPECT_EQ(kMillisecond, 1000000);
  EXPECT_EQ(kSecond, 1000000000);
  EXPECT_EQ(Millis(5), 5 * kMillisecond);
}

TEST(TimeTest, DeadlineAfterSaturatesAtForever) {
  EXPECT_EQ(DeadlineAfter(10, 5), 15);
  EXPECT_EQ(DeadlineAfter(10, kForever), kForever);
  EXPECT_EQ(DeadlineAfter(kForever - 1, 5), kForever);
}

TEST(TimeTest, Formatting) {
  EXPECT_EQ(FormatTime(1500 * kMillisecond), "1.500000s");
  EXPECT_EQ(FormatDuration(3 * kSecond), "3s");
  EXPECT_EQ(FormatDuration(1500 * kMicrosecond), "1.5ms");
  EXPECT_EQ(FormatDuration(250 * kMicrosecond), "250us");
  EXPECT_EQ(FormatDuration(7), "7ns");
}

}  // namespace
}  // namespace ksim
