// Consumer assignor benchmarks: wall time of one Assign() call for 1,000 members and 10,000
// partitions, every member subscribed to every topic, for each built-in assignor.
//
// Args: {assignor index, topics}; the 10,000 partitions are split evenly over the topics.
//   BM_AssignFresh     a new group (no owned partitions).
//   BM_AssignRebalance the same group after one member left: every remaining member owns what
//                      the fresh assignment gave it (the sticky assignors' interesting case).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/client/consumer/assignor.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

constexpr int kMembers = 1000;
constexpr int kPartitions = 10000;
const char* const kAssignors[] = {"range", "roundrobin", "sticky", "cooperative-sticky"};

struct Group {
  std::map<std::string, int32_t> topics;
  std::map<MemberId, Subscription> members;
};

Group MakeGroup(int topics) {
  Group g;
  std::vector<std::string> names;
  for (int t = 0; t < topics; ++t) {
    char name[32];
    std::snprintf(name, sizeof name, "topic-%04d", t);
    names.push_back(name);
    g.topics[name] = kPartitions / topics;
  }
  for (int m = 0; m < kMembers; ++m) {
    char id[48];
    std::snprintf(id, sizeof id, "consumer-%04d-0000-0000-0000-000000000000", m);
    Subscription s;
    s.topics = names;
    s.generation = 1;
    g.members[id] = s;
  }
  return g;
}

void Report(benchmark::State& state, const std::map<MemberId, Assignment>& a) {
  size_t total = 0, lo = SIZE_MAX, hi = 0;
  for (const auto& [m, as] : a) {
    total += as.partitions.size();
    lo = std::min(lo, as.partitions.size());
    hi = std::max(hi, as.partitions.size());
  }
  KSIM_CHECK(total == static_cast<size_t>(kPartitions));
  state.counters["members"] = static_cast<double>(a.size());
  state.counters["min_per_member"] = static_cast<double>(lo);
  state.counters["max_per_member"] = static_cast<double>(hi);
}

void BM_AssignFresh(benchmark::State& state) {
  const Assignor* assignor = FindAssignor(kAssignors[state.range(0)]);
  KSIM_CHECK(assignor != nullptr);
  state.SetLabel(assignor->name());
  const Group g = MakeGroup(static_cast<int>(state.range(1)));
  std::map<MemberId, Assignment> a;
  for (auto _ : state) {
    a = assignor->Assign(g.topics, g.members);
    benchmark::DoNotOptimize(a);
  }
  Report(state, a);
  state.SetItemsProcessed(state.iterations() * kPartitions);  // partitions assigned per second
}

void BM_AssignRebalance(benchmark::State& state) {
  const Assignor* assignor = FindAssignor(kAssignors[state.range(0)]);
  KSIM_CHECK(assignor != nullptr);
  state.SetLabel(assignor->name());
  Group g = MakeGroup(static_cast<int>(state.range(1)));
  {
    auto first = assignor->Assign(g.topics, g.members);
    for (auto& [m, s] : g.members) {
      s.owned_partitions = first.at(m).partitions;
      s.generation = 1;
    }
    g.members.erase(g.members.begin());  // one member leaves
  }
  std::map<MemberId, Assignment> a;
  for (auto _ : state) {
    a = assignor->Assign(g.topics, g.members);
    benchmark::DoNotOptimize(a);
  }
  // A cooperative assignor may hold back partitions that change owner (first of two rounds).
  size_t total = 0;
  for (const auto& [m, as] : a) total += as.partitions.size();
  state.counters["assigned"] = static_cast<double>(total);
  state.counters["members"] = static_cast<double>(a.size());
  state.SetItemsProcessed(state.iterations() * kPartitions);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < 4; ++i) {
    b->Args({i, 1});    // one topic of 10,000 partitions
    b->Args({i, 100});  // 100 topics of 100 partitions
  }
}

BENCHMARK(BM_AssignFresh)->Apply(Args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AssignRebalance)->Apply(Args)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
