// A randomised workload of many fibers on several nodes with crashes and restarts, run twice
// per seed: the trace hash must be the same for the same seed and differ across seeds.
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/runtime/sync.h"
#include "gtest/gtest.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

uint64_t RunWorkload(uint64_t seed) {
  Kernel k(KernelOptions{.seed = seed});
  std::vector<std::shared_ptr<Channel<int>>> inbox;
  const int kNodes = 5;
  for (int n = 0; n < kNodes; ++n) inbox.push_back(std::make_shared<Channel<int>>());
  for (int n = 0; n < kNodes; ++n) {
    k.AddNode(absl::StrCat("node-", n), [&k, &inbox, n] {
      Rng rng = k.Stream(absl::StrCat("node-", n, "/", k.Incarnation(n)));
      for (int f = 0; f < 4; ++f) {
        k.Spawn(n, "worker", [&k, &inbox, n, f, rng = rng.Fork(absl::StrCat(f))]() mutable {
          for (;;) {
            Sleep(rng.Range(1, 500) * kMicrosecond);
            inbox[rng.Uniform(inbox.size())]->Send(n * 100 + f);
          }
        });
      }
      for (;;) {
        auto v = inbox[n]->Receive(k.Now() + Millis(1));
        if (v.ok()) k.Trace(n, "recv", absl::StrCat(*v));
      }
    });
  }
  for (int n = 0; n < kNodes; ++n) k.Start(n);
  k.Spawn(kNoNode, "nemesis", [&k] {
    Rng rng = k.Stream("nemesis");
    for (;;) {
      Sleep(rng.Range(1, 20) * kMillisecond);
      NodeId victim = static_cast<NodeId>(rng.Uniform(5));
      if (k.IsUp(victim)) {
        k.Crash(victim);
      } else {
        k.Restart(victim);
      }
    }
  });
  k.RunUntil(Millis(500));
  return k.trace().hash();
}

TEST(DeterminismTest, SameSeedSameHashDifferentSeedDifferentHash) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    uint64_t a = RunWorkload(seed);
    uint64_t b = RunWorkload(seed);
    EXPECT_EQ(a, b) << "seed " << seed;
    EXPECT_NE(a, RunWorkload(seed + 1000)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace ksim
