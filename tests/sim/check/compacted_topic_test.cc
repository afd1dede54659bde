// scenarios/compacted-topic.yaml end to end: the log cleaner compacts the topic on every broker
// (about one record per key below the active segment) and the checks, which know superseded
// records of compacted topics may be gone, all pass.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "engine/broker/broker.h"
#include "gtest/gtest.h"
#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

namespace ksim {
namespace {

TEST(CompactedTopicTest, CleanerKeepsAboutOneRecordPerKeyAndChecksPass) {
  const char* root = std::getenv("KSIM_SOURCE_DIR");
  ASSERT_NE(root, nullptr);
  const int seeds = std::getenv("KSIM_TEST_SEEDS") ? std::atoi(std::getenv("KSIM_TEST_SEEDS")) : 3;
  for (int seed = 1; seed <= std::max(1, seeds / 3); ++seed) {
    auto sc = LoadScenario(std::string(root) + "/scenarios/compacted-topic.yaml",
                           {"seed=" + std::to_string(seed)});
    ASSERT_TRUE(sc.ok()) << sc.status().message();
    Cluster cluster(*sc);
    if (std::getenv("KSIM_DEBUG_CLEANER")) {
      cluster.kernel().trace().SetSink([&cluster](const TraceEvent& e) {
        if (e.kind == "log-cleaned") {
          std::printf("%.3f %s %s\n", static_cast<double>(e.time) / 1e9,
                      cluster.kernel().NodeName(e.node).c_str(), e.detail.c_str());
        }
      });
    }
    RunResult r = cluster.Run();
    for (const CheckResult& c : r.checks) {
      EXPECT_NE(c.status, CheckStatus::kFail) << "seed " << seed << " " << c.name << ": "
                                              << c.summary;
    }
    EXPECT_GT(r.records_acked, 10000) << "seed " << seed;
    int logs = 0;
    int offsets_logs = 0;
    for (NodeId n : cluster.Brokers()) {
      Broker* b = cluster.BrokerAt(n);
      ASSERT_NE(b, nullptr);
      for (const auto& [tp, p] : b->partitions()) {
        if (tp.topic == "__consumer_offsets" && p->log().log_end_offset() > 0) {
          // Commits of one (group, topic, partition) collapse as well.
          PartitionLog& log = p->log();
          int64_t records = 0;
          int64_t pos = 0;
          while (pos < log.active_segment_base()) {
            auto read = log.Read(pos, 1 << 20, log.active_segment_base(), true);
            ASSERT_TRUE(read.ok());
            if (read->empty()) break;
            for (const BatchPtr& batch : *read) {
              records += batch->record_count();
              pos = batch->last_offset() + 1;
            }
          }
          ++offsets_logs;
          if (std::getenv("KSIM_DEBUG_CLEANER")) {
            std::printf("%s on node %d: %ld commit records below %ld (LEO %ld)\n",
                        tp.ToString().c_str(), n, static_cast<long>(records),
                        static_cast<long>(log.active_segment_base()),
                        static_cast<long>(log.log_end_offset()));
          }
          EXPECT_GT(log.log_end_offset(), 100) << tp.ToString();
          EXPECT_LT(records * 4, log.active_segment_base()) << tp.ToString();
          continue;
        }
        if (tp.topic != "profiles") continue;
        PartitionLog& log = p->log();
        const int64_t active = log.active_segment_base();
        int64_t below = 0;
        std::set<int64_t> keys;
        int64_t pos = log.log_start_offset();
        while (pos < active) {
          auto read = log.Read(pos, 1 << 20, active, true);
          ASSERT_TRUE(read.ok());
          if (read->empty()) break;
          for (const BatchPtr& batch : *read) {
            for (int32_t i = 0; i < batch->record_count(); ++i) {
              if (batch->base_offset() + i < pos || batch->base_offset() + i >= active) continue;
              ++below;
              keys.insert(batch->key_hash(i));
            }
            pos = std::max(pos, batch->last_offset() + 1);
          }
        }
        ++logs;
        EXPECT_EQ(log.log_start_offset(), 0);
        EXPECT_GT(active, 1000) << tp.ToString();  // segments rolled
        EXPECT_LE(keys.size(), 100u);
        // About one record per key below the active segment: whatever arrived after the last
        // pass may still be dirty.
        EXPECT_LE(below, static_cast<int64_t>(keys.size()) * 3 / 2)
            << "seed " << seed << " broker node " << n << " " << tp.ToString() << ": " << below
            << " records for " << keys.size() << " keys below offset " << active;
      }
    }
    EXPECT_EQ(logs, 6);
    EXPECT_GE(offsets_logs, 3);  // the group's __consumer_offsets partition on every replica
  }
}

TEST(CompactedTopicTest, SameSeedSameTrace) {
  const char* root = std::getenv("KSIM_SOURCE_DIR");
  ASSERT_NE(root, nullptr);
  auto run = [&] {
    auto sc = LoadScenario(std::string(root) + "/scenarios/compacted-topic.yaml", {"seed=5"});
    EXPECT_TRUE(sc.ok());
    Cluster cluster(*sc);
    return cluster.Run().trace_hash;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace ksim
