// Shared by the cluster macro benchmarks (replication, producer, consumer): runs a whole
// scenario, given as YAML text, through sim/cluster exactly as `ksim run` does (Cluster
// construction, topic creation, workload, settle, final read, checks, teardown) and reports
// simulator throughput. Rates are per second of the benchmark's measured time: Google
// Benchmark's default, the process CPU time, which for this single-threaded simulator equals
// wall time on an unloaded machine and does not count time stolen by other processes on a
// shared one (the Time column shows the real time):
//
//   items_per_second      simulated records acknowledged (or consumed) per wall second
//   records_per_wall_s    the same figure as a named counter
//   sim_s_per_wall_s      simulated seconds per wall second (the `speed` of `ksim run`)
//   events_per_wall_s     kernel events processed per wall second
//   acked, consumed, sim_s, events   totals of the last run (sanity)
#ifndef KSIM_BENCH_BENCH_CLUSTER_H_
#define KSIM_BENCH_BENCH_CLUSTER_H_

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "engine/runtime/check.h"
#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

namespace ksim::bench {

enum class Count { kAcked, kConsumed };

inline Scenario ParseOrDie(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  auto sc = ParseScenario(yaml, "bench.yaml", sets);
  KSIM_CHECK_MSG(sc.ok(), std::string(sc.status().message()));
  return *sc;
}

inline void RunScenarioBenchmark(benchmark::State& state, const Scenario& sc, Count count) {
  int64_t records = 0, acked = 0, consumed = 0;
  double sim_seconds = 0, events = 0;
  bool passed = true;
  std::string failures;
  for (auto _ : state) {
    RunResult r;
    {
      Cluster cluster(sc);
      r = cluster.Run();
    }
    acked = r.records_acked;
    consumed = r.records_consumed;
    records += count == Count::kAcked ? r.records_acked : r.records_consumed;
    sim_seconds += static_cast<double>(r.simulated_ns) / 1e9;
    events += static_cast<double>(r.events);
    if (!r.all_checks_passed()) {
      passed = false;
      for (const CheckResult& c : r.checks) {
        if (c.status == CheckStatus::kFail) failures += c.name + ": " + c.summary + "; ";
      }
    }
  }
  if (!passed) state.SkipWithError(("a check failed: " + failures).c_str());
  // A run whose producers never got going (e.g. topics not ready before the workload ended)
  // passes its checks vacuously; as a benchmark it measures nothing.
  if (passed && !sc.producers.empty() && acked == 0) {
    state.SkipWithError("no record was acknowledged: the workload never ran");
  }
  state.SetItemsProcessed(records);
  using C = benchmark::Counter;
  state.counters["records_per_wall_s"] = C(static_cast<double>(records), C::kIsRate);
  state.counters["sim_s_per_wall_s"] = C(sim_seconds, C::kIsRate);
  state.counters["events_per_wall_s"] = C(events, C::kIsRate);
  state.counters["acked"] = static_cast<double>(acked);
  state.counters["consumed"] = static_cast<double>(consumed);
  state.counters["sim_s"] = sim_seconds / static_cast<double>(state.iterations());
  state.counters["events"] = events / static_cast<double>(state.iterations());
}

}  // namespace ksim::bench

#endif  // KSIM_BENCH_BENCH_CLUSTER_H_
