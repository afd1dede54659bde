#include "sim/net/network.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ksim {
namespace {

struct Msg : Payload {
  explicit Msg(int v) : value(v) {}
  int value;
};

int ValueOf(const PayloadPtr& p) { return static_cast<const Msg&>(*p).value; }

// Two nodes, 1 Gb/s NICs, a fixed 1 ms link.
struct Fixture {
  explicit Fixture(LinkProfile link = {kMillisecond, 0, LinkProfile::Distribution::kConstant},
                   uint64_t seed = 1)
      : kernel(KernelOptions{.seed = seed}), net(kernel) {
    a = kernel.AddNode("a", nullptr);
    b = kernel.AddNode("b", nullptr);
    kernel.Start(a);
    kernel.Start(b);
    net.AddNode(a, {});
    net.AddNode(b, {});
    net.SetDefaultLink(link);
  }
  Kernel kernel;
  Network net;
  NodeId a, b;
};

TEST(NetworkTest, ConnectTakesARoundTripAndMessagesArriveAfterLatencyAndWireTime) {
  Fixture f;
  TimeNs connected = -1, received = -1;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    ASSERT_TRUE(c.ok());
    auto m = (*c)->Receive(kForever);
    ASSERT_TRUE(m.ok());
    received = f.kernel.Now();
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    ASSERT_TRUE(c.ok());
    connected = f.kernel.Now();
    ASSERT_TRUE((*c)->Send(std::make_shared<Msg>(1), 1'000'000).ok());  // 1 MB
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  EXPECT_EQ(connected, 2 * kMillisecond);
  // 8 ms to leave a 1 Gb/s NIC, 1 ms on the wire, 8 ms through the receiving NIC.
  EXPECT_EQ(received - connected, 8 * kMillisecond + kMillisecond + 8 * kMillisecond);
}

TEST(NetworkTest, BackToBackMessagesQueueOnTheNic) {
  Fixture f;
  std::vector<TimeNs> at;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE((*c)->Receive(kForever).ok());
      at.push_back(f.kernel.Now());
    }
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    (void)(*c)->Send(std::make_shared<Msg>(1), 125'000);  // 1 ms of wire time each
    (void)(*c)->Send(std::make_shared<Msg>(2), 125'000);
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[1] - at[0], kMillisecond);
}

TEST(NetworkTest, OrderIsKeptUnderHeavyJitter) {
  Fixture f({kMillisecond, 5 * kMillisecond, LinkProfile::Distribution::kExponential});
  std::vector<int> got;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    for (int i = 0; i < 200; ++i) got.push_back(ValueOf(*(*c)->Receive(kForever)));
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    for (int i = 0; i < 200; ++i) {
      (void)(*c)->Send(std::make_shared<Msg>(i), 10);
      Sleep(10 * kMicrosecond);
    }
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got[i], i);
}

TEST(NetworkTest, PartitionStallsThenHealDeliversInOrder) {
  Fixture f;
  std::vector<std::pair<int, TimeNs>> got;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    for (int i = 0; i < 3; ++i) {
      auto m = (*c)->Receive(kForever);
      ASSERT_TRUE(m.ok());
      got.push_back({ValueOf(*m), f.kernel.Now()});
    }
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    f.net.Partition(f.a, f.b);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*c)->Send(std::make_shared<Msg>(i), 10).ok());
    Sleep(50 * kMillisecond);
    f.net.HealAll();
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].first, i);
    EXPECT_GT(got[i].second, 52 * kMillisecond);  // nothing before the heal
  }
}

TEST(NetworkTest, OneWayPartitionBlocksOnlyThatDirection) {
  Fixture f;
  int b_got = 0, a_got = 0;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    (void)(*c)->Send(std::make_shared<Msg>(7), 10);
    auto m = (*c)->Receive(f.kernel.Now() + 100 * kMillisecond);
    if (m.ok()) ++b_got;
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    f.net.PartitionOneWay(f.a, f.b);
    (void)(*c)->Send(std::make_shared<Msg>(1), 10);
    auto m = (*c)->Receive(f.kernel.Now() + 100 * kMillisecond);
    if (m.ok()) ++a_got;
  });
  f.kernel.RunUntil(kForever);
  EXPECT_EQ(a_got, 1);  // b -> a still works
  EXPECT_EQ(b_got, 0);  // a -> b is blocked
}

TEST(NetworkTest, ConnectToADownNodeIsRefusedAndAcrossAPartitionTimesOut) {
  Fixture f;
  absl::Status refused, timed_out;
  f.kernel.Crash(f.b);
  f.kernel.Spawn(f.a, "client", [&] {
    refused = f.net.Connect(f.a, f.b, kForever).status();
    f.net.Isolate(f.a);
    timed_out = f.net.Connect(f.a, f.b, f.kernel.Now() + 300 * kMillisecond).status();
  });
  f.kernel.RunUntil(kForever);
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out)) << timed_out;
}

TEST(NetworkTest, CrashResetsThePeersConnection) {
  Fixture f;
  absl::Status seen;
  TimeNs seen_at = -1;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    Sleep(kForever);
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    f.kernel.Spawn(kNoNode, "crasher", [&] {
      Sleep(10 * kMillisecond);
      f.kernel.Crash(f.b);
    });
    seen = (*c)->Receive(kForever).status();
    seen_at = f.kernel.Now();
    EXPECT_FALSE((*c)->Send(std::make_shared<Msg>(1), 1).ok());
  });
  f.kernel.RunUntil(kForever);
  EXPECT_TRUE(absl::IsUnavailable(seen)) << seen;
  EXPECT_EQ(seen_at, 2 * kMillisecond + 10 * kMillisecond + kMillisecond);
}

TEST(NetworkTest, MessagesInFlightToACrashedNodeAreDropped) {
  Fixture f;
  int delivered_after_restart = 0;
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    (void)(*c)->Send(std::make_shared<Msg>(1), 1'000'000);  // ~17 ms to deliver
    Sleep(kMillisecond);
    f.kernel.Crash(f.b);
    f.kernel.Restart(f.b);
    Sleep(kSecond);
  });
  f.kernel.Spawn(kNoNode, "check", [&] {
    Sleep(500 * kMillisecond);
    delivered_after_restart = static_cast<int>(f.net.stats(f.b).messages_delivered);
  });
  f.kernel.RunUntil(kForever);
  EXPECT_EQ(delivered_after_restart, 0);
}

TEST(NetworkTest, ThrottleSlowsTheNic) {
  auto run = [](double factor) {
    Fixture f;
    f.net.ThrottleNic(f.a, factor);
    TimeNs got = -1;
    f.kernel.Spawn(f.b, "server", [&] {
      auto c = f.net.Accept(f.b, kForever);
      (void)(*c)->Receive(kForever);
      got = f.kernel.Now();
    });
    f.kernel.Spawn(f.a, "client", [&] {
      auto c = f.net.Connect(f.a, f.b, kForever);
      (void)(*c)->Send(std::make_shared<Msg>(1), 1'000'000);
      Sleep(kSecond);
    });
    f.kernel.RunUntil(kForever);
    return got;
  };
  EXPECT_EQ(run(0.1) - run(1.0), 72 * kMillisecond);  // 80 ms instead of 8 to leave
}

TEST(NetworkTest, DelaysAddLatencyUntilRemoved) {
  Fixture f;
  const int64_t h = f.net.AddDelay({f.a}, {f.b}, 20 * kMillisecond, 0);
  EXPECT_EQ(f.net.DrawDelay(f.a, f.b), 21 * kMillisecond);
  EXPECT_EQ(f.net.DrawDelay(f.b, f.a), 21 * kMillisecond);
  f.net.RemoveDelay(h);
  EXPECT_EQ(f.net.DrawDelay(f.a, f.b), kMillisecond);
}

TEST(NetworkTest, SameSeedSameDeliveryTimes) {
  auto run = [](uint64_t seed) {
    Fixture f({kMillisecond, kMillisecond, LinkProfile::Distribution::kNormal}, seed);
    std::vector<TimeNs> at;
    f.kernel.Spawn(f.b, "server", [&] {
      auto c = f.net.Accept(f.b, kForever);
      for (int i = 0; i < 50; ++i) {
        (void)(*c)->Receive(kForever);
        at.push_back(f.kernel.Now());
      }
    });
    f.kernel.Spawn(f.a, "client", [&] {
      auto c = f.net.Connect(f.a, f.b, kForever);
      for (int i = 0; i < 50; ++i) {
        (void)(*c)->Send(std::make_shared<Msg>(i), 100);
        Sleep(100 * kMicrosecond);
      }
      Sleep(kSecond);
    });
    f.kernel.RunUntil(kForever);
    return at;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(NetworkTest, CloseIsSeenByThePeerAfterQueuedData) {
  Fixture f;
  std::vector<int> got;
  absl::Status end;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    for (;;) {
      auto m = (*c)->Receive(kForever);
      if (!m.ok()) {
        end = m.status();
        return;
      }
      got.push_back(ValueOf(*m));
    }
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    (void)(*c)->Send(std::make_shared<Msg>(1), 10);
    (void)(*c)->Send(std::make_shared<Msg>(2), 10);
    (*c)->Close();
  });
  f.kernel.RunUntil(kForever);
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_TRUE(absl::IsUnavailable(end));
}

}  // namespace
}  // namespace ksim
