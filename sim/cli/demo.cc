// `ksim demo`: a kernel demonstration that needs no scenario file. Five nodes exchange
// messages over channels while a nemesis crashes and restarts them; prints what happened and
// the trace hash. Runs the same way for the same seed, every time.
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/sync.h"
#include "sim/cli/commands.h"
#include "sim/kernel/kernel.h"

namespace ksim::cli {

int DemoMain(const Args& args) {
  uint64_t seed = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") {
      std::printf("usage: ksim demo [--seed N]\n");
      return 0;
    }
    if (args[i] == "--seed" && i + 1 < args.size()) {
      if (!absl::SimpleAtoi(args[++i], &seed)) return UsageError("--seed: not a number: " + args[i]);
      continue;
    }
    return UsageError("demo: unknown argument '" + args[i] + "' (see ksim demo --help)");
  }
  Kernel k(KernelOptions{.seed = seed});
  const int kNodes = 5;
  std::vector<std::shared_ptr<Channel<int>>> inbox;
  std::vector<int64_t> received(kNodes, 0);
  for (int n = 0; n < kNodes; ++n) inbox.push_back(std::make_shared<Channel<int>>());
  for (int n = 0; n < kNodes; ++n) {
    k.AddNode(absl::StrCat("node-", n), [&, n] {
      Rng rng = k.Stream(absl::StrCat("node-", n, "/", k.Incarnation(n)));
      k.Spawn(n, "sender", [&, n, rng]() mutable {
        for (;;) {
          Sleep(rng.Range(1, 1000) * kMicrosecond);
          inbox[rng.Uniform(kNodes)]->Send(n);
        }
      });
      for (;;) {
        if (inbox[n]->Receive().ok()) ++received[n];
      }
    });
    k.Start(n);
  }
  int crashes = 0;
  k.Spawn(kNoNode, "nemesis", [&] {
    Rng rng = k.Stream("nemesis");
    for (;;) {
      Sleep(rng.Range(100, 1000) * kMillisecond);
      NodeId victim = static_cast<NodeId>(rng.Uniform(kNodes));
      if (k.IsUp(victim)) {
        k.Crash(victim);
        ++crashes;
      } else {
        k.Restart(victim);
      }
    }
  });
  k.RunUntil(Seconds(10));
  std::printf("ksim demo: %d nodes, 10s of virtual time, seed %llu\n", kNodes,
              static_cast<unsigned long long>(seed));
  for (int n = 0; n < kNodes; ++n) {
    std::printf("  %s: %s, %lld messages received\n", k.NodeName(n).c_str(),
                k.IsUp(n) ? "up" : "down", static_cast<long long>(received[n]));
  }
  std::printf("  crashes: %d, events: %llu\n", crashes,
              static_cast<unsigned long long>(k.events_processed()));
  std::printf("trace hash: %s\nreplay: ksim demo --seed %llu\n", k.trace().HashHex().c_str(),
              static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace ksim::cli
