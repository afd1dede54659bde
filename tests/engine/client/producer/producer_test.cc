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
    p.OnAppend({"t", first}, 100, true);
  }
  EXPECT_EQ(p.Partition("t", std::nullopt, 6, view, rng), first);
  p.OnAppend({"t", first}, 100, true);  // 1000 bytes and the batch is full: switch
  // The switch draws again among all available partitions (it may draw the same one), so
  // count switches over many rounds instead.
  int moved = 0;
  int32_t cur = p.Partition("t", std::nullopt, 6, view, rng);
  for (int round = 0; round < 60; ++round) {
    p.OnAppend({"t", cur}, 1000, true);
    int32_t next = p.Partition("t", std::nullopt, 6, view, rng);
    moved += next != cur;
    cur = next;
  }
  EXPECT_GT(moved, 40);  // about 5/6 of the draws land elsewhere
}

TEST(PartitionerTest, SwitchWaitsForFullBatchesButNotBeyondTwiceBatchSize) {
  DefaultPartitioner p(1000, false);
  Rng rng(7);
  ClusterView view{1000, {}};
  for (int i = 0; i < 1000; ++i) view.available.push_back(i);
  const int32_t first = p.Partition("t", std::nullopt, 1000, view, rng);
  // 1,500 bytes but the last batch is not full: Kafka keeps the partition (KIP-794).
  p.OnAppend({"t", first}, 1500, false);
  EXPECT_EQ(p.Partition("t", std::nullopt, 1000, view, rng), first);
  // At twice batch.size it switches anyway (1 in 1,000 chance of drawing the same partition).
  p.OnAppend({"t", first}, 500, false);
  EXPECT_NE(p.Partition("t", std::nullopt, 1000, view, rng), first);
}

TEST(PartitionerTest, AdaptiveChoiceFollowsKafkasCumulativeFrequencyTable) {
  DefaultPartitioner p(1000, false, /*adaptive=*/true);
  // Kafka's own example: queue sizes 0 3 1 -> weights 4 1 3 -> CFT 4 5 8.
  std::map<int32_t, int32_t> queues = {{0, 0}, {1, 3}, {2, 1}};
  ClusterView view{3, {0, 1, 2}, [&](int32_t part) { return queues[part]; }};
  const int32_t want[8] = {0, 0, 0, 0, 1, 2, 2, 2};
  for (uint32_t draw = 0; draw < 16; ++draw) {
    EXPECT_EQ(p.NextPartition(3, view, draw), want[draw % 8]) << "draw " << draw;
  }
  // Equal queues over all partitions: uniform, draw % n.
  queues = {{0, 2}, {1, 2}, {2, 2}};
  for (uint32_t draw = 0; draw < 6; ++draw) EXPECT_EQ(p.NextPartition(3, view, draw), int32_t(draw % 3));
  // A partition without a leader is left out of the table even when the rest are equal.
  ClusterView two{3, {0, 2}, [&](int32_t part) { return queues[part]; }};
  for (uint32_t draw = 0; draw < 6; ++draw) EXPECT_NE(p.NextPartition(3, two, draw), 1);
  // With partitioner.adaptive.partitioning.enable=false the queues are ignored.
  DefaultPartitioner uniform(1000, false, /*adaptive=*/false);
  queues = {{0, 0}, {1, 3}, {2, 1}};
  for (uint32_t draw = 0; draw < 6; ++draw) EXPECT_EQ(uniform.NextPartition(3, view, draw), int32_t(draw % 3));
}

TEST(PartitionerTest, AdaptiveSwitchesAvoidLongQueues) {
  DefaultPartitioner p(100, false);
  Rng rng(11);
  // Partition 0's leader is slow: 9 batches queued; the others have none.
  ClusterView view{4, {0, 1, 2, 3}, [](int32_t part) { return part == 0 ? 9 : 0; }};
  std::map<int32_t, int> picks;
  for (int i = 0; i < 4000; ++i) {
    int32_t part = p.Partition("t", std::nullopt, 4, view, rng);
    ++picks[part];
    p.OnAppend({"t", part}, 100, true);  // every record completes a batch: switch each time
  }
  // Weights 1:10:10:10, so partition 0 gets about 1/31 of the switches.
  EXPECT_LT(picks[0], 4000 / 31 * 2);
  EXPECT_GT(picks[1], 4000 * 10 / 31 * 8 / 10);
}

TEST(PartitionerTest, StickyOnlyPicksAvailablePartitions) {
  DefaultPartitioner p(10, false);
  Rng rng(2);
  ClusterView view{6, {1, 4}};
  std::set<int32_t> seen;
  for (int i = 0; i < 50; ++i) {
    int32_t part = p.Partition("t", std::nullopt, 6, view, rng);
    seen.insert(part);
    p.OnAppend({"t", part}, 100, true);
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

TEST(AccumulatorTest, BufferMemoryIsReturnedWhenBatchesComplete) {
  // 4 batches of 1,000 bytes fit in 4,000 bytes of buffer.memory. Sending many times that
  // must work as long as completed batches give their buffers back.
  RecordAccumulator acc({1000, 0, 4000, 100 * kMillisecond, 120 * kSecond});
  TopicPartition tp{"t", 0};
  PendingRecord r;
  r.size_bytes = 110;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(acc.Append(tp, r, 0, 0).ok()) << "round " << round;
    EXPECT_EQ(acc.buffered_bytes(), 1000);  // one batch's buffer, whatever it holds
    auto b = acc.Drain(tp, 0);
    ASSERT_NE(b, nullptr);
    acc.Deallocate(*b);
    EXPECT_EQ(acc.buffered_bytes(), 0);
  }
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

TEST(AccumulatorTest, EpochBumpForgetsTheQueuedSequencesOfOnePartition) {
  RecordAccumulator acc({100, 0, 1 << 20, 100 * kMillisecond, 120 * kSecond});
  TopicPartition t0{"t", 0};
  TopicPartition t1{"t", 1};
  PendingRecord r;
  r.size_bytes = 60;
  (void)acc.Append(t0, r, 0, kForever);
  (void)acc.Append(t1, r, 0, kForever);
  auto b0 = acc.Drain(t0, 0);
  auto b1 = acc.Drain(t1, 0);
  b0->base_sequence = 7;
  b1->base_sequence = 9;
  acc.Reenqueue(std::move(b0), 0);
  acc.Reenqueue(std::move(b1), 0);
  acc.ResetSequences(t0);
  EXPECT_EQ(acc.Drain(t0, kSecond)->base_sequence, -1);  // numbered again when sent
  EXPECT_EQ(acc.Drain(t1, kSecond)->base_sequence, 9);
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
