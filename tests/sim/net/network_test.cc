#include "sim/net/network.h"

#include <map>
#include <string>
#include <utility>
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
  // 8 ms to leave a 1 Gb/s NIC and 1 ms on the wire: the receiver takes the bytes while they
  // are sent (cut-through), it does not serialise the message a second time.
  EXPECT_EQ(received - connected, 8 * kMillisecond + kMillisecond);
}

// A receiver `b` and senders; every NIC 1 Gb/s, every link a fixed 1 ms.
struct Star : Fixture {
  NodeId Add(const char* name, NicProfile nic = {}) {
    const NodeId n = kernel.AddNode(name, nullptr);
    kernel.Start(n);
    net.AddNode(n, nic);
    return n;
  }
  // `b` accepts `connections` connections and records when each message arrives, by value.
  void Collect(int connections, std::map<int, TimeNs>& at) {
    for (int i = 0; i < connections; ++i) {
      kernel.Spawn(b, "server", [this, &at] {
        auto c = net.Accept(b, kForever);
        if (!c.ok()) return;
        for (;;) {
          auto m = (*c)->Receive(kForever);
          if (!m.ok()) return;
          at[ValueOf(*m)] = kernel.Now();
        }
      });
    }
  }
};

TEST(NetworkTest, AStreamThroughOneLinkReachesItsBandwidth) {
  Star f;
  std::map<int, TimeNs> at;
  f.Collect(1, at);
  TimeNs connected = -1;
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    connected = f.kernel.Now();
    for (int i = 0; i < 100; ++i) (void)(*c)->Send(std::make_shared<Msg>(i), 125'000);  // 1 ms
    Sleep(kSecond);
    (*c)->Close();
  });
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(at.size(), 100u);
  // 100 ms of wire time, then the last byte's trip: the link is busy all the time.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(at[i] - connected, (i + 1) * kMillisecond + kMillisecond);
  EXPECT_EQ(f.net.stats(f.b).bytes_delivered, 100 * 125'000);
}

TEST(NetworkTest, SendersIntoOneReceiverShareItsInboundBandwidth) {
  Star f;
  const NodeId c = f.Add("c");
  std::map<int, TimeNs> at;
  f.Collect(2, at);
  // Two senders, each with a 1 Gb/s outbound link of its own, stream 50 ms of data each at the
  // same moment into b's 1 Gb/s inbound link.
  for (const std::pair<NodeId, int>& sender : {std::pair{f.a, 0}, std::pair{c, 1000}}) {
    const NodeId node = sender.first;
    const int base = sender.second;
    f.kernel.Spawn(node, "client", [&f, node, base] {
      auto conn = f.net.Connect(node, f.b, kForever);
      for (int i = 0; i < 50; ++i) (void)(*conn)->Send(std::make_shared<Msg>(base + i), 125'000);
      Sleep(kSecond);
      (*conn)->Close();
    });
  }
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(at.size(), 100u);
  TimeNs last = 0;
  for (const auto& [v, t] : at) last = std::max(last, t);
  // Connected at 2 ms; 100 ms of wire time through b's inbound link; the first byte's 1 ms
  // trip. Without the inbound limit it would all be in after 50 ms + 1 ms.
  EXPECT_EQ(last, 2 * kMillisecond + kMillisecond + 100 * kMillisecond);
  // The link serves the two streams side by side, each at half its bandwidth: the i-th
  // messages of both, whose last bytes reach b together, are in after 2 (i + 1) ms of b's link.
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(at[i], 2 * kMillisecond + kMillisecond + (2 * i + 2) * kMillisecond);
    EXPECT_EQ(at[1000 + i], 2 * kMillisecond + kMillisecond + (2 * i + 2) * kMillisecond);
  }
}

TEST(NetworkTest, TheInboundLinkIsSharedInArrivalOrderNotSendOrder) {
  Star f;
  const NodeId c = f.Add("c");
  const NodeId d = f.Add("d");
  std::map<int, TimeNs> at;
  f.Collect(2, at);
  f.kernel.Spawn(c, "sink", [&] {
    auto conn = f.net.Accept(c, kForever);
    (void)(*conn)->Receive(kForever);
  });
  // a's NIC first sends 10 MB (80 ms) to c, then 1 MB to b: that message leaves a only after
  // the big one, from 80 ms on. d sends b 1 MB a little later, which reaches b long before.
  f.kernel.Spawn(f.a, "client", [&] {
    auto to_c = f.net.Connect(f.a, c, kForever);
    auto to_b = f.net.Connect(f.a, f.b, kForever);
    f.kernel.Spawn(d, "client", [&] {
      auto conn = f.net.Connect(d, f.b, kForever);
      Sleep(kMillisecond);
      (void)(*conn)->Send(std::make_shared<Msg>(2), 1'000'000);
      Sleep(kSecond);
    });
    (void)(*to_c)->Send(std::make_shared<Msg>(0), 10'000'000);
    (void)(*to_b)->Send(std::make_shared<Msg>(1), 1'000'000);
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  const TimeNs t0 = 4 * kMillisecond;  // both of a's connections are up
  // d's message (sent at t0 + 3 ms: d connected at t0 + 2 ms) is not booked behind a's.
  EXPECT_EQ(at[2], t0 + 3 * kMillisecond + 8 * kMillisecond + kMillisecond);
  EXPECT_EQ(at[1], t0 + 80 * kMillisecond + 8 * kMillisecond + kMillisecond);
}

TEST(NetworkTest, AShortMessageDoesNotWaitForALongOneStreamingIn) {
  Star f;
  const NodeId c = f.Add("c");
  std::map<int, TimeNs> at;
  f.Collect(2, at);
  TimeNs t0 = -1;
  f.kernel.Spawn(f.a, "client", [&] {
    auto conn = f.net.Connect(f.a, f.b, kForever);
    t0 = f.kernel.Now();
    (void)(*conn)->Send(std::make_shared<Msg>(1), 1'000'000);  // reaches b from t0 + 1 to + 9 ms
    Sleep(kSecond);
  });
  f.kernel.Spawn(c, "client", [&] {
    auto conn = f.net.Connect(c, f.b, kForever);
    Sleep(2 * kMillisecond);
    (void)(*conn)->Send(std::make_shared<Msg>(2), 125);  // 1 us of wire time
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  // The long message fills b's link as it streams in, but only the bytes that have arrived
  // queue there: the short one waits for its own microsecond and the one it overlaps, not for
  // the rest of the long message, which ends a microsecond later for it.
  EXPECT_EQ(at[2], t0 + 2 * kMillisecond + kMillisecond + 2 * kMicrosecond);
  EXPECT_EQ(at[1], t0 + 8 * kMillisecond + kMillisecond + kMicrosecond);
}

TEST(NetworkTest, RequestResponsePingPongIsOneWireTimePerHop) {
  Star f;
  std::vector<TimeNs> rounds;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE((*c)->Receive(kForever).ok());
      (void)(*c)->Send(std::make_shared<Msg>(i), 1'000'000);  // an 8 ms response
    }
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    for (int i = 0; i < 20; ++i) {
      const TimeNs t = f.kernel.Now();
      (void)(*c)->Send(std::make_shared<Msg>(i), 125);  // a 1 us request
      ASSERT_TRUE((*c)->Receive(kForever).ok());
      rounds.push_back(f.kernel.Now() - t);
    }
  });
  f.kernel.RunUntil(kForever);
  ASSERT_EQ(rounds.size(), 20u);
  // Request: 1 us + 1 ms; response: 8 ms + 1 ms. 1 MB per 10.001 ms, ~80 % of the link; a
  // store-and-forward link would take 8 ms more per round.
  for (TimeNs r : rounds) EXPECT_EQ(r, kMicrosecond + 8 * kMillisecond + 2 * kMillisecond);
}

TEST(NetworkTest, AFastSenderIsLimitedByTheReceiversInboundLink) {
  Star f;
  const NodeId fast = f.Add("fast", {.out_bits_per_second = 10'000'000'000,
                                     .in_bits_per_second = 10'000'000'000});
  std::map<int, TimeNs> at;
  f.Collect(1, at);
  TimeNs sent = -1;
  f.kernel.Spawn(fast, "client", [&] {
    auto c = f.net.Connect(fast, f.b, kForever);
    sent = f.kernel.Now();
    (void)(*c)->Send(std::make_shared<Msg>(1), 1'000'000);  // 0.8 ms out of a 10 Gb/s NIC
    (void)(*c)->Send(std::make_shared<Msg>(2), 1'000'000);
    EXPECT_EQ(f.kernel.Now(), sent);
    ASSERT_TRUE((*c)->WaitSent(kForever).ok());
    EXPECT_EQ(f.kernel.Now() - sent, 1600 * kMicrosecond);
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  // b's 1 Gb/s inbound link takes 8 ms per message from the first byte on (1 ms after sending).
  EXPECT_EQ(at[1] - sent, kMillisecond + 8 * kMillisecond);
  EXPECT_EQ(at[2] - sent, kMillisecond + 16 * kMillisecond);
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
    (void)(*c)->Send(std::make_shared<Msg>(1), 1'000'000);  // 9 ms to deliver
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

TEST(NetworkTest, AThrottledReceiverTakesBytesAtItsReducedRate) {
  Fixture f;
  f.net.ThrottleNic(f.b, 0.1);
  TimeNs got = -1, sent = -1;
  f.kernel.Spawn(f.b, "server", [&] {
    auto c = f.net.Accept(f.b, kForever);
    (void)(*c)->Receive(kForever);
    got = f.kernel.Now();
  });
  f.kernel.Spawn(f.a, "client", [&] {
    auto c = f.net.Connect(f.a, f.b, kForever);
    sent = f.kernel.Now();
    (void)(*c)->Send(std::make_shared<Msg>(1), 1'000'000);
    Sleep(kSecond);
  });
  f.kernel.RunUntil(kForever);
  EXPECT_EQ(got - sent, kMillisecond + 80 * kMillisecond);  // from the first byte on, 100 Mb/s
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
