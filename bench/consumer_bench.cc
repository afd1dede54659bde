// Consumer macro benchmark: a group of 10 consumers reading a topic of 20 partitions (RF=3,
// min.insync.replicas=2) on a 3-broker cluster while one producer writes 20,000 records/s
// (acks=all, linger.ms=5) for 5 s; 2 s settle, then consumers commit and leave; checks
// all-acked-consumed and group-safety. Each iteration is a whole `ksim run`. Figures: simulated
// records consumed per wall second (items_per_second, records_per_wall_s) and simulated
// seconds per wall second. The wall time includes producing and replicating the records.
//
//   BM_ConsumerGroupTail/<commit>   consumers join at once and read the tail
//   BM_ConsumerGroupBacklog         consumers join after the producer stopped (5 s) and
//                                   read the 93 k-record backlog, 3 s settle
// commit: 0 = sync after every poll, 1 = auto (enable.auto.commit), 2 = async.
#include <string>

#include "bench/bench_cluster.h"

namespace ksim {
namespace {

constexpr const char* kScenario = R"(
name: consumer-bench
seed: 1
duration: 5s
settle: 2s
cluster:
  brokers: 3
  broker-config: {group.initial.rebalance.delay.ms: 0}
topics:
  - {name: t, partitions: 20, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: app, topic: t, rate: 20000/s, value-size: 100, config: {acks: all, linger.ms: 5}}
consumers:
  - {group: g, count: 10, subscribe: [t], commit: sync, config: {auto.offset.reset: earliest}}
expect: [all-acked-consumed, group-safety]
)";

const char* const kCommit[] = {"sync", "auto", "async"};

void BM_ConsumerGroupTail(benchmark::State& state) {
  const char* commit = kCommit[state.range(0)];
  state.SetLabel(std::string("commit=") + commit);
  const Scenario sc = bench::ParseOrDie(kScenario, {std::string("consumers.g.commit=") + commit});
  bench::RunScenarioBenchmark(state, sc, bench::Count::kConsumed);
}
BENCHMARK(BM_ConsumerGroupTail)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond);

void BM_ConsumerGroupBacklog(benchmark::State& state) {
  const Scenario sc = bench::ParseOrDie(kScenario, {"consumers.g.start=5s", "settle=3s"});
  bench::RunScenarioBenchmark(state, sc, bench::Count::kConsumed);
}
BENCHMARK(BM_ConsumerGroupBacklog)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
