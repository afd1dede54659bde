// Producer macro benchmark: one producer sending 100-byte keyless records with linger.ms=5 and
// batch.size=16384 to a 3-broker cluster (one topic, 6 partitions, RF=3,
// min.insync.replicas=2), as fast as the producer accepts (rate 0), for 3 s of simulated
// time; each iteration is a whole `ksim run` (1 s settle, final read, the
// no-lost-acked-writes check). Figures: simulated records acknowledged per wall second
// (items_per_second, records_per_wall_s) and simulated seconds per wall second.
//
// Arg: acks, 0 / 1 / -1 (all).
//
// BM_AccumulatorAppendDrain: the accumulator alone (the producer's hot path per record):
// append 100-byte records to 6 partitions' 16 KiB batches, drain and release each batch as it
// fills. Figure: records per second.
#include <string>
#include <vector>

#include "bench/bench_cluster.h"
#include "engine/client/producer/record_accumulator.h"

namespace ksim {
namespace {

constexpr const char* kScenario = R"(
name: producer-bench
seed: 1
duration: 3s
settle: 1s
cluster:
  brokers: 3
topics:
  - {name: t, partitions: 6, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: app, topic: t, rate: 0, value-size: 100,
     config: {acks: all, linger.ms: 5, batch.size: 16384}}
expect: [no-lost-acked-writes]
)";

void BM_Producer(benchmark::State& state) {
  const int64_t acks = state.range(0);
  // acks=0 needs idempotence off (enable.idempotence requires acks=all).
  std::vector<std::string> sets = {"producers.app.config.acks=" + std::to_string(acks)};
  if (acks != -1) sets.push_back("producers.app.config.enable.idempotence=false");
  const Scenario sc = bench::ParseOrDie(kScenario, sets);
  state.SetLabel(acks == -1 ? "acks=all" : "acks=" + std::to_string(acks));
  bench::RunScenarioBenchmark(state, sc, bench::Count::kAcked);
}
BENCHMARK(BM_Producer)->Arg(-1)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_AccumulatorAppendDrain(benchmark::State& state) {
  RecordAccumulator acc(RecordAccumulator::Options{});
  PendingRecord r;
  r.key_size_bytes = -1;
  r.value_size_bytes = 100;
  r.size_bytes = 110;
  int64_t records = 0;
  int32_t partition = 0;
  for (auto _ : state) {
    const TopicPartition tp{"t", partition};
    partition = (partition + 1) % 6;
    auto full = acc.Append(tp, r, 0, kForever);
    if (!full.ok()) state.SkipWithError("append failed");
    if (*full) {
      auto batch = acc.Drain(tp, 0);
      acc.Deallocate(*batch);
    }
    ++records;
  }
  state.SetItemsProcessed(records);
}
BENCHMARK(BM_AccumulatorAppendDrain);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
