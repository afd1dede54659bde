// Memory of a long run with retention on: one simulated hour of a steady 1,000 records/s
// (100-byte values) into 6 partitions (RF=3, retention.ms 60 s, 256 KiB segments, retention
// checked every 5 s), consumed by a group of two, every checker on. Reports the process's
// resident memory (VmRSS) and the history's live operations and estimated bytes at 10 and
// 60 simulated minutes, and the peak (VmHWM) at the end.
//
//   BM_SteadyHourWithRetention/1   the history retires what retention deleted (the default)
//   BM_SteadyHourWithRetention/0   the history keeps everything (retire lag = forever)
//
// VmHWM is the peak of the whole process: run one benchmark per process
// (--benchmark_filter=BM_SteadyHourWithRetention/1) for a clean figure.
#include <fstream>
#include <string>

#include "bench/bench_cluster.h"

namespace ksim {
namespace {

double ProcStatusMiB(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(f, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size())) / 1024.0;
  }
  return 0;
}

constexpr const char* kSteadyHour = R"(
name: steady-hour
seed: 1
duration: 3600s
settle: 5s
cluster:
  brokers: 3
  broker-config: {log.retention.check.interval.ms: 5000, group.initial.rebalance.delay.ms: 0}
topics:
  - {name: t, partitions: 6, replication.factor: 3,
     config: {min.insync.replicas: 2, retention.ms: 60000, segment.bytes: 262144}}
producers:
  - {name: app, topic: t, rate: 1000/s, value-size: 100, config: {linger.ms: 5}}
consumers:
  - {group: g, count: 2, subscribe: [t], commit: auto, config: {auto.offset.reset: earliest}}
expect: [no-lost-acked-writes, no-duplicates, partition-order, consistent-offsets,
         replicas-agree, liveness, all-acked-consumed, group-safety, commits-monotonic]
)";

void BM_SteadyHourWithRetention(benchmark::State& state) {
  const bool retire = state.range(0) != 0;
  const Scenario sc = bench::ParseOrDie(kSteadyHour);
  for (auto _ : state) {
    Cluster cluster(sc);
    if (!retire) cluster.history().set_retire_lag(kForever);
    bool at10 = false;
    bool at60 = false;
    RunResult r = cluster.Run([&](TimeNs now, TimeNs) {
      const History& h = cluster.history();
      if (!at10 && now >= 10 * kMinute) {
        at10 = true;
        state.counters["rss_MiB_10min"] = ProcStatusMiB("VmRSS");
        state.counters["live_ops_10min"] = static_cast<double>(h.live_ops());
        state.counters["live_MiB_10min"] = static_cast<double>(h.live_bytes()) / (1 << 20);
      }
      if (!at60 && now >= 60 * kMinute) {
        at60 = true;
        state.counters["rss_MiB_60min"] = ProcStatusMiB("VmRSS");
        state.counters["live_ops_60min"] = static_cast<double>(h.live_ops());
        state.counters["live_MiB_60min"] = static_cast<double>(h.live_bytes()) / (1 << 20);
      }
    });
    state.counters["acked"] = static_cast<double>(r.records_acked);
    state.counters["retired_ops"] = static_cast<double>(cluster.history().retired_ops());
    state.counters["late_ops"] = static_cast<double>(cluster.history().late_ops());
    if (!r.all_checks_passed()) state.SkipWithError("a check failed");
  }
  state.counters["peak_rss_MiB"] = ProcStatusMiB("VmHWM");
}
BENCHMARK(BM_SteadyHourWithRetention)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
