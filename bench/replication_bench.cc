// Replication macro benchmark: a 3-broker cluster, one topic of 6 partitions with RF=3 and
// min.insync.replicas=2, one producer with acks=all (idempotence on, the Java defaults), no
// faults. Each iteration is a whole `ksim run` of the scenario below (5 s of workload, 1 s
// settle, final read, the no-lost-acked-writes and replicas-agree checks). Figures: simulated
// records acknowledged per wall second (items_per_second) and simulated seconds per wall
// second (sim_s_per_wall_s); see bench_cluster.h for the other counters.
//
// Arg: the producer's rate in records/s; 0 sends as fast as the producer accepts (the
// accumulator's buffer.memory is the only brake).
#include <string>

#include "bench/bench_cluster.h"

namespace ksim {
namespace {

constexpr const char* kScenario = R"(
name: replication-bench
seed: 1
duration: 5s
settle: 1s
cluster:
  brokers: 3
topics:
  - {name: t, partitions: 6, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: app, topic: t, rate: 20000/s, value-size: 100, config: {acks: all}}
expect: [no-lost-acked-writes, replicas-agree]
)";

void BM_ReplicationAcksAll(benchmark::State& state) {
  const Scenario sc = bench::ParseOrDie(
      kScenario, {"producers.app.rate=" + std::to_string(state.range(0))});
  bench::RunScenarioBenchmark(state, sc, bench::Count::kAcked);
}
BENCHMARK(BM_ReplicationAcksAll)
    ->Arg(20000)  // 20,000 records/s for 5 s
    ->Arg(0)      // saturating
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
