#include "engine/coordinator/coordinator_for.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(CoordinatorForTest, JavaStringHashCode) {
  EXPECT_EQ(JavaStringHashCode(""), 0);
  EXPECT_EQ(JavaStringHashCode("a"), 97);
  EXPECT_EQ(JavaStringHashCode("ab"), 3105);
  EXPECT_EQ(JavaStringHashCode("hello"), 99162322);
  // Overflow wraps like Java's int.
  EXPECT_EQ(JavaStringHashCode("my-group"), -1906497762);
  // Non-ASCII: "é" is one UTF-16 unit (233); "😀" is a surrogate pair (0xD83D, 0xDE00).
  EXPECT_EQ(JavaStringHashCode("\xc3\xa9"), 233);
  EXPECT_EQ(JavaStringHashCode("\xf0\x9f\x98\x80"), 0xD83D * 31 + 0xDE00);
}

TEST(CoordinatorForTest, KafkaAbsAndPartition) {
  EXPECT_EQ(KafkaAbs(INT32_MIN), 0);
  EXPECT_EQ(KafkaAbs(-5), 5);
  EXPECT_EQ(CoordinatorPartition("a", 50), 97 % 50);
  EXPECT_EQ(CoordinatorPartition("my-group", 50), 1906497762 % 50);
  // "polygenelubricants" hashes to Integer.MIN_VALUE in Java: partition 0, not negative.
  EXPECT_EQ(JavaStringHashCode("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(CoordinatorPartition("polygenelubricants", 50), 0);
}

}  // namespace
}  // namespace ksim
