// Broker-side idempotence rules: duplicates of the last five batches are recognised and get
// their original offsets; gaps are OUT_OF_ORDER_SEQUENCE_NUMBER; old epochs are fenced.
#include "engine/broker/producer_state.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(ProducerStateTest, NewProducerMustStartAtZero) {
  ProducerStateTable t;
  EXPECT_EQ(t.Check(7, 0, 0, 9).error, Error::kNone);
  EXPECT_EQ(t.Check(7, 0, 5, 9).error, Error::kOutOfOrderSequenceNumber);
}

TEST(ProducerStateTest, NextSequenceIsAccepted) {
  ProducerStateTable t;
  t.Record(7, 0, {0, 9, 100, 109});
  auto v = t.Check(7, 0, 10, 19);
  EXPECT_EQ(v.error, Error::kNone);
  EXPECT_FALSE(v.duplicate);
}

TEST(ProducerStateTest, GapIsOutOfOrder) {
  ProducerStateTable t;
  t.Record(7, 0, {0, 9, 100, 109});
  EXPECT_EQ(t.Check(7, 0, 20, 29).error, Error::kOutOfOrderSequenceNumber);
}

TEST(ProducerStateTest, RetriedBatchIsADuplicateWithItsOriginalOffset) {
  ProducerStateTable t;
  t.Record(7, 0, {0, 9, 100, 109});
  t.Record(7, 0, {10, 19, 110, 119});
  auto v = t.Check(7, 0, 0, 9);
  EXPECT_EQ(v.error, Error::kNone);
  EXPECT_TRUE(v.duplicate);
  EXPECT_EQ(v.duplicate_first_offset, 100);
}

TEST(ProducerStateTest, OnlyTheLastFiveBatchesAreRemembered) {
  ProducerStateTable t;
  for (int b = 0; b < 6; ++b) t.Record(7, 0, {b * 10, b * 10 + 9, 100 + b * 10, 109 + b * 10});
  EXPECT_FALSE(t.Check(7, 0, 0, 9).duplicate);  // the oldest was forgotten
  EXPECT_TRUE(t.Check(7, 0, 10, 19).duplicate);
}

TEST(ProducerStateTest, EpochsFenceAndReset) {
  ProducerStateTable t;
  t.Record(7, 1, {0, 9, 100, 109});
  EXPECT_EQ(t.Check(7, 0, 10, 19).error, Error::kInvalidProducerEpoch);
  EXPECT_EQ(t.Check(7, 2, 0, 4).error, Error::kNone);  // a bumped epoch restarts at zero
  EXPECT_EQ(t.Check(7, 2, 3, 4).error, Error::kOutOfOrderSequenceNumber);
}

TEST(ProducerStateTest, TruncationForgetsBatchesAboveTheCut) {
  ProducerStateTable t;
  t.Record(7, 0, {0, 9, 100, 109});
  t.Record(7, 0, {10, 19, 110, 119});
  t.TruncateFrom(110);
  EXPECT_EQ(t.Check(7, 0, 10, 19).error, Error::kNone);
  EXPECT_FALSE(t.Check(7, 0, 10, 19).duplicate);
  t.TruncateFrom(0);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ProducerStateTest, NonIdempotentBatchesAreNotTracked) {
  ProducerStateTable t;
  t.Record(kNoProducerId, -1, {-1, -1, 0, 9});
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Check(kNoProducerId, -1, -1, -1).error, Error::kNone);
}

}  // namespace
}  // namespace ksim
