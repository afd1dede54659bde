// Kernel micro benchmarks: wake-ups per second and memory per idle fiber.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "engine/runtime/sync.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

// N fibers each sleep 1,000 times for a pseudo-random 1-13 us of virtual time.
void BM_SleepWakeups(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  const int sleeps = 1000;
  for (auto _ : state) {
    Kernel k(KernelOptions{.seed = 1, .fiber_stack_bytes = size_t(state.range(1))});
    for (int i = 0; i < fibers; ++i) {
      k.Spawn(kNoNode, "sleeper", [i] {
        uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1);
        for (int s = 0; s < sleeps; ++s) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          Sleep(static_cast<DurationNs>(1 + x % 13) * kMicrosecond);
        }
      });
    }
    k.RunUntil(kForever);
    benchmark::DoNotOptimize(k.Now());
  }
  state.SetItemsProcessed(state.iterations() * fibers * sleeps);
}
BENCHMARK(BM_SleepWakeups)->Args({1000, 65536})->Args({1000, 16384})->Args({1000,8192})->Args({10000, 65536})->Unit(benchmark::kMillisecond);

// Two fibers bounce a message through a pair of channels (no network model): the floor cost
// of a blocking hand-off.
void BM_ChannelPingPong(benchmark::State& state) {
  const int rounds = 100000;
  for (auto _ : state) {
    Kernel k;
    Channel<int> ping, pong;
    k.Spawn(kNoNode, "a", [&] {
      for (int i = 0; i < rounds; ++i) {
        ping.Send(i);
        (void)pong.Receive();
      }
    });
    k.Spawn(kNoNode, "b", [&] {
      for (int i = 0; i < rounds; ++i) {
        (void)ping.Receive();
        pong.Send(i);
      }
    });
    k.RunUntil(kForever);
  }
  state.SetItemsProcessed(state.iterations() * rounds * 2);
}
BENCHMARK(BM_ChannelPingPong)->Unit(benchmark::kMillisecond);

long ResidentBytes() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * 4096;
}

// Resident memory per idle fiber (parked forever), with the default 64 KiB stack.
void BM_IdleFiberMemory(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  double per_fiber = 0;
  for (auto _ : state) {
    long before = ResidentBytes();
    {
      Kernel k;
      for (int i = 0; i < fibers; ++i) k.Spawn(kNoNode, "idle", [] { Sleep(kForever); });
      k.RunUntil(0);
      per_fiber = static_cast<double>(ResidentBytes() - before) / fibers;
    }
  }
  state.counters["bytes_per_fiber"] = per_fiber;
  state.counters["total_MiB"] = per_fiber * fibers / (1024.0 * 1024.0);
}
BENCHMARK(BM_IdleFiberMemory)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
