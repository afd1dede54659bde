// Network benchmark: messages per wall-clock second bounced between two nodes over one
// simulated connection (latency, NIC queueing and delivery events included).
#include <benchmark/benchmark.h>

#include "sim/net/network.h"

namespace ksim {
namespace {

struct Ball : Payload {};

void BM_NetworkPingPong(benchmark::State& state) {
  const int rounds = 50000;
  for (auto _ : state) {
    Kernel k;
    Network net(k);
    NodeId a = k.AddNode("a", nullptr), b = k.AddNode("b", nullptr);
    k.Start(a);
    k.Start(b);
    net.AddNode(a, {});
    net.AddNode(b, {});
    net.SetDefaultLink({100 * kMicrosecond, 10 * kMicrosecond, LinkProfile::Distribution::kUniform});
    auto ball = std::make_shared<Ball>();
    k.Spawn(b, "pong", [&] {
      auto c = net.Accept(b, kForever);
      for (int i = 0; i < rounds; ++i) {
        auto m = (*c)->Receive(kForever);
        (void)(*c)->Send(*m, 100);
      }
    });
    k.Spawn(a, "ping", [&] {
      auto c = net.Connect(a, b, kForever);
      for (int i = 0; i < rounds; ++i) {
        (void)(*c)->Send(ball, 100);
        (void)(*c)->Receive(kForever);
      }
    });
    k.RunUntil(kForever);
  }
  state.SetItemsProcessed(state.iterations() * rounds * 2);
}
BENCHMARK(BM_NetworkPingPong)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
