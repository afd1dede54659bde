// Macro benchmarks of the cost-model issue: how fast whole simulations run and how much memory
// they take. Each runs one whole scenario once (`Iterations(1)`) and reports simulated seconds
// per wall second and the process's peak resident memory (VmHWM; the peak of the process so
// far, so run one benchmark per process for a clean figure: --benchmark_filter=...).
//
//   (a) BM_MacroMillionRecordsPerSecond: 3 brokers, RF=3, 6 producers at 1,000,000 100-byte
//       records/s in total, a group of 3 consumers, every checker on. The consumers start
//       from the earliest offset: the group forms ~0.4 s into the run, after the producers
//       have started, and with Kafka's default auto.offset.reset=latest it would skip what
//       was written before (all-acked-consumed failed for that reason, not for lag: the
//       consumers keep up, end-to-end p50 ~20 ms, and the 2 s settle is ample).
//   (b) BM_MacroFiftyBrokers: 50 brokers, 5,000 partitions (50 topics x 100, RF=3), 200
//       clients (100 producers, 100 consumers in 10 groups). Creating 5,000 partitions takes
//       the controller ~5.6 simulated seconds (one metadata-store write at a time), and
//       producers start once every partition has a leader, so the workload lasts 10 s to
//       give ~4.4 s of traffic.
//   (c) BM_MacroQuietHourUnderNemesis: a quiet 3-broker cluster (a trickle of writes) under a
//       random crash/partition nemesis for one simulated hour.
#include <fstream>
#include <string>

#include "bench/bench_cluster.h"

namespace ksim {
namespace {

double PeakRssMiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

void Run(benchmark::State& state, const char* yaml, bench::Count count) {
  bench::RunScenarioBenchmark(state, bench::ParseOrDie(yaml), count);
  state.counters["peak_rss_MiB"] = PeakRssMiB();
}

constexpr const char* kMillion = R"(
name: macro-a
seed: 1
duration: 2s
settle: 2s
cluster:
  brokers: 3
  hardware: cloud-nvme
  broker-config: {group.initial.rebalance.delay.ms: 0}
topics:
  - {name: t, partitions: 12, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: p, count: 6, topic: t, rate: 166667/s, value-size: 100,
     config: {acks: all, linger.ms: 5, batch.size: 65536, buffer.memory: 268435456}}
consumers:
  - {group: g, count: 3, subscribe: [t], commit: auto, config: {auto.offset.reset: earliest}}
)";

void BM_MacroMillionRecordsPerSecond(benchmark::State& state) {
  Run(state, kMillion, bench::Count::kAcked);
}
BENCHMARK(BM_MacroMillionRecordsPerSecond)->Iterations(1)->Unit(benchmark::kSecond);

std::string FiftyBrokers() {
  std::string y = R"(
name: macro-b
seed: 1
duration: 10s
settle: 3s
cluster:
  brokers: 50
  hardware: cloud-nvme
  broker-config: {group.initial.rebalance.delay.ms: 0}
topics:
)";
  for (int t = 0; t < 50; ++t) {
    y += "  - {name: t" + std::to_string(t) +
         ", partitions: 100, replication.factor: 3, config: {min.insync.replicas: 2}}\n";
  }
  y += "producers:\n";
  for (int t = 0; t < 50; ++t) {
    y += "  - {name: p" + std::to_string(t) + ", count: 2, topic: t" + std::to_string(t) +
         ", rate: 200/s, key: uniform(1000), value-size: 100, config: {acks: all}}\n";
  }
  y += "consumers:\n";
  for (int g = 0; g < 10; ++g) {
    std::string subs;
    for (int t = g * 5; t < g * 5 + 5; ++t) subs += (subs.empty() ? "t" : ", t") + std::to_string(t);
    y += "  - {group: g" + std::to_string(g) + ", count: 10, subscribe: [" + subs +
         "], config: {auto.offset.reset: earliest}}\n";
  }
  return y;
}

void BM_MacroFiftyBrokers(benchmark::State& state) {
  static const std::string yaml = FiftyBrokers();
  Run(state, yaml.c_str(), bench::Count::kAcked);
}
BENCHMARK(BM_MacroFiftyBrokers)->Iterations(1)->Unit(benchmark::kSecond);

constexpr const char* kQuietHour = R"(
name: macro-c
seed: 1
duration: 3600s
settle: 60s
cluster:
  brokers: 3
  broker-config: {replica.lag.time.max.ms: 10000, zookeeper.session.timeout.ms: 6000}
topics:
  - {name: t, partitions: 6, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: p, topic: t, rate: 1/s, value-size: 100, config: {acks: all}}
nemesis:
  kinds: [crash, power, partition, isolate]
  interval: 60s
  duration: 20s
)";

void BM_MacroQuietHourUnderNemesis(benchmark::State& state) {
  Run(state, kQuietHour, bench::Count::kAcked);
}
BENCHMARK(BM_MacroQuietHourUnderNemesis)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
