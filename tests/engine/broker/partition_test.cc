// One partition replica in isolation (engine/broker/partition): the leader's produce rules
// (acks, min.insync.replicas, fencing), the high watermark from follower fetches, consumer vs
// follower reads, ISR shrink, and broker-side recompression — on one simulated broker with a
// disk and one CPU core, without the network or the controller.
#include "engine/replication/replica_fetcher.h"
#include "engine/broker/partition.h"

#include <gtest/gtest.h>

#include "engine/log/compression.h"
#include "sim/host/host.h"
#include "sim/kernel/kernel.h"
#include "sim/net/network.h"

namespace ksim {
namespace {

struct OneBroker {
  OneBroker() : net(kernel) {
    node = kernel.AddNode("broker-1", nullptr);
    net.AddNode(node, {});
    host = std::make_unique<Host>(kernel, net, node,
                                  std::make_unique<Disk>(kernel, node, DiskProfile::Nvme()), 1);
    kernel.Start(node);
    settings.broker_id = 1;
    settings.replica_lag_time_max_ns = 10 * kSecond;
  }
  ~OneBroker() { kernel.Shutdown(); }

  // Runs `body` in a fiber of the broker until it returns.
  template <typename F>
  void Run(F body) {
    kernel.Spawn(node, "test", [&] { body(); });
    kernel.RunUntil(kForever);
  }

  std::unique_ptr<Partition> Make(const std::map<std::string, std::string>& topic_config = {},
                                  int32_t partition = 0) {
    topic = TopicSettings::Resolve(settings, topic_config);
    auto log = PartitionLog::Open(host->fs(), "data/t-" + std::to_string(partition),
                                  ToLogConfig(topic));
    KSIM_CHECK(log.ok());
    return std::make_unique<Partition>(*host, TopicPartition{"t", partition}, std::move(*log),
                                       settings);
  }

  Kernel kernel;
  Network net;
  NodeId node;
  std::unique_ptr<Host> host;
  BrokerSettings settings;
  TopicSettings topic;
};

BatchPtr Batch(int n, uint64_t first_id = 1, Codec codec = Codec::kNone) {
  RecordBatchBuilder b;
  b.set_compression(static_cast<int8_t>(codec));
  for (int i = 0; i < n; ++i) b.Add(first_id + static_cast<uint64_t>(i), i, 4, 100, 1000);
  return b.Build(CostOf(codec).ratio);
}

PartitionState Leader(int32_t epoch, std::vector<BrokerId> isr) {
  PartitionState s;
  s.leader = 1;
  s.leader_epoch = epoch;
  s.isr = isr;
  s.replicas = {1, 2, 3};
  s.partition_epoch = epoch;
  return s;
}

FetchPartition FollowerFetch(int64_t offset, int32_t epoch) {
  FetchPartition f;
  f.fetch_offset = offset;
  f.current_leader_epoch = epoch;
  return f;
}

// num.replica.fetchers: Kafka's getFetcherId, abs(31 * topic.hashCode() + partition) % n,
// with Java's wrapping int arithmetic ("hello".hashCode() = 99162322; 31 times that wraps
// negative).
TEST(ReplicaFetcherTest, FetcherIdFollowsKafkasHash) {
  EXPECT_EQ(FetcherId({"t", 0}, 4), 0);  // "t".hashCode() = 116, 31 * 116 = 3596 = 0 mod 4
  EXPECT_EQ(FetcherId({"t", 5}, 4), 1);
  EXPECT_EQ(FetcherId({"hello", 0}, 3), 0);  // abs(-1220935314) % 3
  EXPECT_EQ(FetcherId({"hello", 1}, 3), 2);  // abs(-1220935313) % 3
  for (int32_t p = 0; p < 10; ++p) EXPECT_EQ(FetcherId({"orders", p}, 1), 0);
}

TEST(PartitionTest, AcksOneAppendsAndTheHighWatermarkFollowsTheSlowestIsrMember) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make();
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1, 2, 3}), w.topic));
    ProducePartitionResponse r = p->Produce(Batch(10), 1, kForever);
    EXPECT_EQ(r.error, Error::kNone);
    EXPECT_EQ(r.base_offset, 0);
    EXPECT_EQ(p->log_end_offset(), 10);
    EXPECT_EQ(p->high_watermark(), 0);  // followers have nothing yet
    // Follower 2 fetches from 10 (has everything), follower 3 from 4.
    p->Fetch(2, FollowerFetch(10, 1), 1 << 20);
    EXPECT_EQ(p->high_watermark(), 0);
    p->Fetch(3, FollowerFetch(4, 1), 1 << 20);
    EXPECT_EQ(p->high_watermark(), 4);
    p->Fetch(3, FollowerFetch(10, 1), 1 << 20);
    EXPECT_EQ(p->high_watermark(), 10);
  });
}

TEST(PartitionTest, ConsumersReadUpToTheHighWatermarkFollowersUpToTheEnd) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make();
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1, 2}), w.topic));
    p->Produce(Batch(5), 1, kForever);
    p->Fetch(2, FollowerFetch(5, 1), 1 << 20);
    p->Produce(Batch(5, 100), 1, kForever);  // offsets 5..9, not replicated yet
    FetchPartition c;
    c.fetch_offset = 0;
    FetchPartitionResponse consumer = p->Fetch(kConsumerReplicaId, c, 1 << 20);
    EXPECT_EQ(consumer.error, Error::kNone);
    EXPECT_EQ(consumer.high_watermark, 5);
    ASSERT_EQ(consumer.batches.size(), 1u);
    EXPECT_EQ(consumer.batches[0]->last_offset(), 4);
    FetchPartitionResponse follower = p->Fetch(2, FollowerFetch(5, 1), 1 << 20);
    ASSERT_EQ(follower.batches.size(), 1u);
    EXPECT_EQ(follower.batches[0]->base_offset(), 5);
  });
}

TEST(PartitionTest, MinInsyncReplicasIsEnforcedForAcksAllOnly) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make({{"min.insync.replicas", "2"}});
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1}), w.topic));
    EXPECT_EQ(p->Produce(Batch(1), -1, kForever).error, Error::kNotEnoughReplicas);
    EXPECT_EQ(p->log_end_offset(), 0);  // rejected before appending
    EXPECT_EQ(p->Produce(Batch(1), 1, kForever).error, Error::kNone);
  });
}

TEST(PartitionTest, AcksAllWaitsForTheIsrAndTimesOut) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make({{"min.insync.replicas", "2"}});
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1, 2}), w.topic));
    // Follower 2 catches up 50 ms after the append: the produce completes then.
    Partition* raw = p.get();
    w.host->Spawn("follower-2", [&w, raw] {
      w.host->Sleep(50 * kMillisecond);
      raw->Fetch(2, FollowerFetch(3, 1), 1 << 20);
    });
    const TimeNs start = w.host->Now();
    ProducePartitionResponse r = p->Produce(Batch(3), -1, start + kSecond);
    EXPECT_EQ(r.error, Error::kNone);
    EXPECT_EQ(w.host->Now() - start, 50 * kMillisecond);
    // Nobody fetches any more: the next acks=all produce times out at its deadline.
    const TimeNs t = w.host->Now();
    EXPECT_EQ(p->Produce(Batch(3, 10), -1, t + 200 * kMillisecond).error, Error::kRequestTimedOut);
    EXPECT_EQ(w.host->Now(), t + 200 * kMillisecond);
  });
}

// A produce request with several partitions appends to all of them before waiting (Kafka's
// one delayed produce per request): the second partition's batch is replicated while the
// first one's acks are awaited, so the request takes the slowest, not the sum.
TEST(PartitionTest, AppendFirstThenAwaitAcksOverlapsPartitions) {
  OneBroker w;
  w.Run([&] {
    auto a = w.Make({{"min.insync.replicas", "2"}});
    ASSERT_TRUE(a->BecomeLeader(Leader(1, {1, 2}), w.topic));
    auto b = w.Make({{"min.insync.replicas", "2"}}, 1);
    ASSERT_TRUE(b->BecomeLeader(Leader(1, {1, 2}), w.topic));
    Partition* pa = a.get();
    Partition* pb = b.get();
    w.host->Spawn("follower-2", [&w, pa, pb] {
      w.host->Sleep(50 * kMillisecond);
      pa->Fetch(2, FollowerFetch(2, 1), 1 << 20);
      pb->Fetch(2, FollowerFetch(2, 1), 1 << 20);
    });
    const TimeNs start = w.host->Now();
    Partition::PendingProduce first = a->Append(Batch(2), -1);
    Partition::PendingProduce second = b->Append(Batch(2, 10), -1);
    EXPECT_TRUE(first.await_acks && second.await_acks);
    EXPECT_EQ(a->AwaitAcks(first, start + kSecond).error, Error::kNone);
    EXPECT_EQ(b->AwaitAcks(second, start + kSecond).error, Error::kNone);
    EXPECT_EQ(w.host->Now() - start, 50 * kMillisecond);
  });
}

TEST(PartitionTest, NotLeaderAndStaleEpochsAreRefused) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make();
    EXPECT_EQ(p->Produce(Batch(1), 1, kForever).error, Error::kNotLeaderOrFollower);
    ASSERT_TRUE(p->BecomeLeader(Leader(3, {1, 2}), w.topic));
    EXPECT_FALSE(p->BecomeLeader(Leader(2, {1, 2}), w.topic));  // an older epoch
    EXPECT_EQ(p->leader_epoch(), 3);
    // A follower fetching with an old leader epoch is fenced (KIP-320).
    EXPECT_EQ(p->Fetch(2, FollowerFetch(0, 2), 1 << 20).error, Error::kFencedLeaderEpoch);
  });
}

TEST(PartitionTest, LaggingFollowerLeavesTheIsrAfterReplicaLagTimeMax) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make();
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1, 2, 3}), w.topic));
    p->Produce(Batch(10), 1, kForever);
    p->Fetch(2, FollowerFetch(10, 1), 1 << 20);
    p->Fetch(3, FollowerFetch(10, 1), 1 << 20);
    EXPECT_FALSE(p->WantedIsr(w.host->Now()).has_value());
    p->Produce(Batch(10, 50), 1, kForever);
    // Follower 2 keeps up; follower 3 stops fetching.
    for (int i = 0; i < 12; ++i) {
      w.host->Sleep(kSecond);
      p->Fetch(2, FollowerFetch(p->log_end_offset(), 1), 1 << 20);
    }
    auto wanted = p->WantedIsr(w.host->Now());
    ASSERT_TRUE(wanted.has_value());
    EXPECT_EQ(*wanted, (std::vector<BrokerId>{1, 2}));
  });
}

TEST(PartitionTest, TopicCompressionTypeRecompressesAtTheBrokersCpuCost) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make({{"compression.type", "zstd"}});
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1}), w.topic));
    BatchPtr plain = Batch(100);
    const TimeNs start = w.host->Now();
    ASSERT_EQ(p->Produce(plain, 1, kForever).error, Error::kNone);
    // Compressing raw_bytes with zstd costs raw_bytes * compress_ns_per_byte of CPU.
    const double want_ns = static_cast<double>(plain->raw_bytes()) *
                           CostOf(Codec::kZstd).compress_ns_per_byte;
    // (plus the append into the page cache, well under a microsecond)
    EXPECT_GE(static_cast<double>(w.host->Now() - start), want_ns - 1);
    EXPECT_LT(static_cast<double>(w.host->Now() - start), want_ns + 1000);
    EXPECT_EQ(p->recompressed_batches(), 1);
    auto stored = p->log().Read(0, 1 << 20, p->log_end_offset(), true);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), 1u);
    EXPECT_EQ((*stored)[0]->compression(), static_cast<int8_t>(Codec::kZstd));
    EXPECT_LT((*stored)[0]->size_bytes(), plain->size_bytes() / 2);
    // A batch already in the topic's codec is only decompressed to validate it.
    const TimeNs t = w.host->Now();
    BatchPtr zstd = Batch(100, 1000, Codec::kZstd);
    ASSERT_EQ(p->Produce(zstd, 1, kForever).error, Error::kNone);
    EXPECT_EQ(p->recompressed_batches(), 1);
    const double validate_ns =
        static_cast<double>(zstd->raw_bytes()) * CostOf(Codec::kZstd).decompress_ns_per_byte;
    EXPECT_GE(static_cast<double>(w.host->Now() - t), validate_ns - 1);
    EXPECT_LT(static_cast<double>(w.host->Now() - t), validate_ns + 1000);
  });
}

TEST(PartitionTest, ProducerCompressionTypeKeepsTheProducersCodec) {
  OneBroker w;
  w.Run([&] {
    auto p = w.Make();  // compression.type=producer (Kafka's default)
    ASSERT_TRUE(p->BecomeLeader(Leader(1, {1}), w.topic));
    ASSERT_EQ(p->Produce(Batch(10, 1, Codec::kLz4), 1, kForever).error, Error::kNone);
    EXPECT_EQ(p->recompressed_batches(), 0);
    auto stored = p->log().Read(0, 1 << 20, p->log_end_offset(), true);
    EXPECT_EQ((*stored)[0]->compression(), static_cast<int8_t>(Codec::kLz4));
  });
}

}  // namespace
}  // namespace ksim
