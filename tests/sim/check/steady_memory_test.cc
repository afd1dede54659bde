// A long steady run with retention on: the history retires what retention deleted, so what it
// holds stops growing once retention and the retire lag have passed, every check still passes,
// and the run (checks, anomalies, trace) is the same as when the history keeps everything.
#include <algorithm>
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

namespace ksim {
namespace {

constexpr const char* kSteady = R"(
name: steady-retention
seed: 3
duration: 240s
settle: 5s
cluster:
  brokers: 3
  broker-config: {log.retention.check.interval.ms: 1000, group.initial.rebalance.delay.ms: 0}
topics:
  - {name: t, partitions: 3, replication.factor: 3,
     config: {min.insync.replicas: 2, retention.ms: 10000, segment.bytes: 32768}}
producers:
  - {name: app, topic: t, rate: 400/s, value-size: 100, config: {linger.ms: 5}}
consumers:
  - {group: g, count: 2, subscribe: [t], commit: auto, config: {auto.offset.reset: earliest}}
expect: [no-lost-acked-writes, no-duplicates, partition-order, consistent-offsets,
         replicas-agree, liveness, all-acked-consumed, group-safety, commits-monotonic]
)";

struct Sampled {
  RunResult result;
  int64_t live_at_third = 0;   // live operations at 1/3 of the workload
  int64_t live_max_after = 0;  // the most held after that
  int64_t live_end = 0;
  int64_t retired = 0;
  int64_t late = 0;
};

Sampled RunSteady(bool retire) {
  auto sc = ParseScenario(kSteady, "steady.yaml");
  KSIM_CHECK_MSG(sc.ok(), std::string(sc.status().message()));
  Cluster cluster(*sc);
  if (!retire) cluster.history().set_retire_lag(kForever);
  Sampled s;
  const TimeNs third = sc->duration_ns / 3;
  s.result = cluster.Run([&](TimeNs now, TimeNs) {
    const int64_t live = cluster.history().live_ops();
    if (now <= third) s.live_at_third = live;
    if (now > third) s.live_max_after = std::max(s.live_max_after, live);
  });
  s.live_end = cluster.history().live_ops();
  s.retired = cluster.history().retired_ops();
  s.late = cluster.history().late_ops();
  return s;
}

std::string Failures(const RunResult& r) {
  std::string out;
  for (const CheckResult& c : r.checks) {
    if (c.status == CheckStatus::kFail) out += c.name + ": " + c.summary + "; ";
  }
  return out;
}

TEST(SteadyMemoryTest, HistoryStaysBoundedAndJudgesAsIfItKeptEverything) {
  Sampled kept = RunSteady(/*retire=*/false);
  Sampled retired = RunSteady(/*retire=*/true);
  std::printf("live operations: at 1/3 %lld, most after %lld, end %lld (retired %lld); "
              "kept everything: %lld\n",
              static_cast<long long>(retired.live_at_third),
              static_cast<long long>(retired.live_max_after),
              static_cast<long long>(retired.live_end), static_cast<long long>(retired.retired),
              static_cast<long long>(kept.live_end));
  EXPECT_TRUE(retired.result.all_checks_passed()) << Failures(retired.result);
  EXPECT_GT(retired.result.records_acked, 90000);
  EXPECT_EQ(retired.late, 0);
  // Once retention (10 s) and the retire lag (60 s) have passed, what is held stays flat: the
  // last two thirds hold no more than the first third did (plus a bucket per partition and
  // group), while keeping everything grows with the run.
  EXPECT_LE(retired.live_max_after,
            retired.live_at_third + 3 * 3 * History::kBucketOffsets)
      << "at 1/3: " << retired.live_at_third << ", end: " << retired.live_end;
  EXPECT_GT(retired.retired, 2 * retired.live_end);
  EXPECT_GT(kept.live_end, 3 * retired.live_end);
  // Retirement changes nothing the run reports.
  EXPECT_EQ(retired.result.trace_hash, kept.result.trace_hash);
  EXPECT_EQ(retired.result.records_consumed, kept.result.records_consumed);
  ASSERT_EQ(retired.result.checks.size(), kept.result.checks.size());
  for (size_t i = 0; i < kept.result.checks.size(); ++i) {
    const CheckResult& a = retired.result.checks[i];
    const CheckResult& b = kept.result.checks[i];
    EXPECT_EQ(a.status, b.status) << a.name;
    EXPECT_EQ(a.summary, b.summary) << a.name;
    EXPECT_EQ(a.anomalies.size(), b.anomalies.size()) << a.name;
  }
}

}  // namespace
}  // namespace ksim
