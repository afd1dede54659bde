#include "engine/client/producer/murmur2.h"
#include "engine/client/producer/partitioner.h"
#include "engine/client/producer/record_accumulator.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace ksim {
namespace {

// Kafka's UtilsTest.testMurmur2 vectors.
TEST(Murmur2Test, MatchesTheJavaClient) {
  EXPECT_EQ(Murmur2("21"), -973932308);
  EXPECT_EQ(Murmur2("foobar"), -790332482);
  EXPECT_EQ(Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(Murmur2("abc"), 479470107);
  const char bytes[] = {12, 42, 56, 24, 109, 111};
  EXPECT_EQ(Murmur2(std::string_view(bytes, 6)), 274204207);
}

TEST(Murmur2Test, KeyedPartitionUsesToPositiveNotAbs) {
  EXPECT_EQ(ToPositive(-973932308), 1173551340);
  EXPECT_EQ(KeyedPartition("21", 10), 1173551340 % 10);
  EXPECT_EQ(ToPositive(INT32_MIN), 0);
}

Config ProducerConfig(std::map<std::string, std::string> v = {}) {
  return *Config::Make(ProducerConfigDef(), std::move(v));
}

TEST(PartitionerTest, KeyedRecordsGoWhereMurmur2Says) {
  DefaultPartitioner p(16384, false);
  Rng rng(1);
  ClusterView view{6, {0, 1, 2, 3, 4, 5}};
  for (const char* k : {"a", "b", "orders-42"}) {
    EXPECT_EQ(p.Partition("t", std::string(k), 6, view, rng), KeyedPartition(k, 6));
  }
}

TEST(PartitionerTest, StickySwitchesAfterBatchSizeBytes) {
  DefaultPartitioner p(1000, false);
  Rng rng(1);
  ClusterView view{6, {0, 1, 2, 3, 4, 5}};
  const int32_t first = p.Partition("t", std::nullopt, 6, view, rng);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(p.Partition("t", std::nullopt, 6, view, rng), first);
    p.OnAppend({"t", first}, 100);
  }
  p.OnAppend({"t", first}, 100);  // 1000 bytes: the batch is full
  EXPECT_NE(p.Partition("t", std::nullopt, 6, view, rng), first);
}

TEST(PartitionerTest, StickyOnlyPicksAvailablePartitions) {
  DefaultPartitioner p(10, false);
  Rng rng(2);
  ClusterView view{6, {1, 4}};
  std::set<int32_t> seen;
  for (int i = 0; i < 50; ++i) {
    int32_t part = p.Partition("t", std::nullopt, 6, view, rng);
    seen.insert(part);
    p.OnAppend({"t", part}, 100);
  }
  EXPECT_EQ(seen, (std::set<int32_t>{1, 4}));
}

TEST(PartitionerTest, IgnoreKeysTreatsKeyedRecordsAsKeyless) {
  DefaultPartitioner p(1 << 20, true);
  Rng rng(3);
  ClusterView view{6, {0, 1, 2, 3, 4, 5}};
  const int32_t a = p.Partition("t", std::string("x"), 6, view, rng);
  EXPECT_EQ(p.Partition("t", std::string("y"), 6, view, rng), a);  // sticky, not hashed
}

TEST(PartitionerTest, RoundRobinCyclesOverAvailablePartitions) {
  RoundRobinPartitioner p;
  Rng rng(1);
  ClusterView view{4, {0, 1, 2, 3}};
  std::vector<int32_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(p.Partition("t", std::nullopt, 4, view, rng));
  EXPECT_EQ(got, (std::vector<int32_t>{0, 1, 2, 3, 0, 1}));
}

TEST(PartitionerTest, RegistryAndErrors) {
  EXPECT_TRUE(MakePartitioner(ProducerConfig()).ok());
  EXPECT_TRUE(MakePartitioner(ProducerConfig(
                  {{"partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner"}}))
                  .ok());
  auto bad = MakePartitioner(ProducerConfig({{"partitioner.class", "round-robn"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("did you mean 'round-robin'"), std::string::npos);
  RegisterPartitioner("always-zero", [](const Config&) {
    struct Zero : Partitioner {
      int32_t Partition(const std::string&, const std::optional<std::string>&, int32_t,
                        const ClusterView&, Rng&) override {
        return 0;
      }
    };
    return std::make_unique<Zero>();
  });
  auto custom = MakePartitioner(ProducerConfig({{"partitioner.class", "always-zero"}}));
  ASSERT_TRUE(custom.ok());
  Rng rng(1);
  EXPECT_EQ((*custom)->Partition("t", std::string("k"), 8, ClusterView{8, {}}, rng), 0);
}

TEST(AccumulatorTest, BatchesFillAndLingerMakesThemReady) {
  RecordAccumulator acc({1000, 5 * kMillisecond, 1 << 20, 100 * kMillisecond, 120 * kSecond});
  TopicPartition tp{"t", 0};
  PendingRecord r;
  r.size_bytes = 110;
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(*acc.Append(tp, r, 0, kForever));
  TimeNs next;
  EXPECT_TRUE(acc.Ready(kMillisecond, &next).empty());  // not full, linger not over
  EXPECT_EQ(next, 5 * kMillisecond);
  EXPECT_EQ(acc.Ready(5 * kMillisecond, &next).size(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(*acc.Append(tp, r, 0, kForever));
  EXPECT_TRUE(*acc.Append(tp, r, 0, kForever));  // a second batch: the first is sendable
  auto b = acc.Drain(tp, kMillisecond);
  EXPECT_EQ(b->records.size(), 8u);  // 61 + 8 * 110 <= 1000
}

TEST(AccumulatorTest, RetriesGoBackInSequenceOrder) {
  RecordAccumulator acc({100, 0, 1 << 20, 100 * kMillisecond, 120 * kSecond});
  TopicPartition tp{"t", 0};
  PendingRecord r;
  r.size_bytes = 60;
  for (int i = 0; i < 3; ++i) (void)acc.Append(tp, r, 0, kForever);
  auto b0 = acc.Drain(tp, 0);
  auto b1 = acc.Drain(tp, 0);
  b0->base_sequence = 0;
  b1->base_sequence = 1;
  acc.Reenqueue(std::move(b1), 0);
  acc.Reenqueue(std::move(b0), 0);
  TimeNs next;
  EXPECT_TRUE(acc.Ready(50 * kMillisecond, &next).empty());  // retry backoff
  auto first = acc.Drain(tp, 200 * kMillisecond);
  EXPECT_EQ(first->base_sequence, 0);
}

TEST(AccumulatorTest, DeliveryTimeoutExpiresBatches) {
  RecordAccumulator acc({1000, 0, 1 << 20, 100 * kMillisecond, kSecond});
  PendingRecord r;
  r.size_bytes = 10;
  (void)acc.Append({"t", 0}, r, 0, kForever);
  EXPECT_TRUE(acc.Expire(500 * kMillisecond).empty());
  EXPECT_EQ(acc.Expire(kSecond).size(), 1u);
}

}  // namespace
}  // namespace ksim
