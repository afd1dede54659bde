#include "engine/runtime/sync.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

TEST(SyncTest, PromiseWakesWaiterAtTheSettingTime) {
  Kernel k;
  Promise<int> p;
  TimeNs got_at = -1;
  int got = 0;
  k.Spawn(kNoNode, "waiter", [&] {
    got = p.GetFuture().Get();
    got_at = k.Now();
  });
  k.Spawn(kNoNode, "setter", [&] {
    Sleep(Millis(7));
    p.Set(42);
  });
  k.RunUntil(kForever);
  EXPECT_EQ(got, 42);
  EXPECT_EQ(got_at, Millis(7));
}

TEST(SyncTest, FutureWaitTimesOutInVirtualTime) {
  Kernel k;
  Promise<int> p;
  bool ready = true;
  TimeNs at = -1;
  k.Spawn(kNoNode, "waiter", [&] {
    ready = p.GetFuture().Wait(k.Now() + Millis(3));
    at = k.Now();
  });
  k.RunUntil(kForever);
  EXPECT_FALSE(ready);
  EXPECT_EQ(at, Millis(3));
}

TEST(SyncTest, ChannelIsFifoAndTimesOut) {
  Kernel k;
  Channel<int> ch;
  std::vector<int> got;
  absl::Status last;
  k.Spawn(kNoNode, "rx", [&] {
    for (;;) {
      auto v = ch.Receive(k.Now() + Millis(10));
      if (!v.ok()) {
        last = v.status();
        return;
      }
      got.push_back(*v);
    }
  });
  k.Spawn(kNoNode, "tx", [&] {
    ch.Send(1);
    ch.Send(2);
    Sleep(Millis(5));
    ch.Send(3);
  });
  k.RunUntil(kForever);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(absl::IsDeadlineExceeded(last));
  EXPECT_EQ(k.Now(), Millis(15));
}

TEST(SyncTest, ClosedChannelDrainsThenCancels) {
  Kernel k;
  Channel<std::string> ch;
  ch.Send("a");
  ch.Close();
  EXPECT_FALSE(ch.Send("b"));
  std::vector<std::string> got;
  absl::Status end;
  k.Spawn(kNoNode, "rx", [&] {
    for (;;) {
      auto v = ch.Receive();
      if (!v.ok()) {
        end = v.status();
        return;
      }
      got.push_back(*v);
    }
  });
  k.RunUntil(kForever);
  EXPECT_EQ(got, std::vector<std::string>{"a"});
  EXPECT_TRUE(absl::IsCancelled(end));
}

TEST(SyncTest, SemaphoreBoundsConcurrencyLikeAThreadPool) {
  // 5 jobs of 10 ms on a pool of 2: they finish at 10, 10, 20, 20, 30 ms.
  Kernel k;
  Semaphore pool(2);
  std::vector<TimeNs> done;
  for (int i = 0; i < 5; ++i) {
    k.Spawn(kNoNode, "job", [&] {
      SemaphoreGuard g(pool);
      Sleep(10 * kMillisecond);
      done.push_back(Now());
    });
  }
  k.RunUntil(kForever);
  EXPECT_EQ(done, (std::vector<TimeNs>{10 * kMillisecond, 10 * kMillisecond, 20 * kMillisecond,
                                       20 * kMillisecond, 30 * kMillisecond}));
  EXPECT_EQ(pool.available(), 2);
}

TEST(SyncTest, MutexGivesExclusionAcrossBlockingCalls) {
  Kernel k;
  Mutex m;
  int inside = 0, max_inside = 0;
  for (int i = 0; i < 4; ++i) {
    k.Spawn(kNoNode, "w", [&] {
      MutexLock l(m);
      ++inside;
      max_inside = std::max(max_inside, inside);
      Sleep(Millis(1));
      --inside;
    });
  }
  k.RunUntil(kForever);
  EXPECT_EQ(max_inside, 1);
  EXPECT_EQ(k.Now(), Millis(4));
}

TEST(SyncTest, MutexLockUntilTimesOut) {
  Kernel k;
  Mutex m;
  bool second = true;
  k.Spawn(kNoNode, "holder", [&] {
    MutexLock l(m);
    Sleep(Millis(10));
  });
  k.Spawn(kNoNode, "waiter", [&] { second = m.LockUntil(k.Now() + Millis(2)); });
  k.RunUntil(kForever);
  EXPECT_FALSE(second);
}

TEST(SyncTest, KilledWaiterLeavesStaleTicketThatIsSkipped) {
  Kernel k;
  Channel<int> ch;
  int got_by_b = 0;
  NodeId a = k.AddNode("a", [&] { (void)ch.Receive(); });
  k.Start(a);
  k.Spawn(kNoNode, "b", [&] {
    Sleep(Millis(2));
    auto v = ch.Receive();
    if (v.ok()) got_by_b = *v;
  });
  k.Spawn(kNoNode, "driver", [&] {
    Sleep(Millis(1));
    k.Crash(a);
    Sleep(Millis(2));
    ch.Send(9);
  });
  k.RunUntil(kForever);
  EXPECT_EQ(got_by_b, 9);
}

TEST(SyncTest, OneTicketWaitsOnSeveralListsAndTheFirstNotifyWins) {
  Kernel k;
  WaitList a, b;
  std::vector<std::pair<TimeNs, WakeReason>> wakes;
  k.Spawn(kNoNode, "waiter", [&] {
    for (int i = 0; i < 2; ++i) {
      Scheduler& s = Scheduler::Current();
      const WaitTicket t = s.Arm();
      a.Add(t);
      b.Add(t);
      wakes.emplace_back(0, s.Park(k.Now() + Millis(10)));
      wakes.back().first = k.Now();
    }
  });
  k.Spawn(kNoNode, "notifier", [&] {
    Sleep(Millis(3));
    b.NotifyAll();  // wakes the first wait
    a.NotifyAll();  // its ticket in `a` is stale by now, and the second wait has not begun
  });
  k.RunUntil(kForever);
  ASSERT_EQ(wakes.size(), 2u);
  EXPECT_EQ(wakes[0], std::make_pair(Millis(3), WakeReason::kWoken));
  EXPECT_EQ(wakes[1], std::make_pair(Millis(13), WakeReason::kTimedOut));
}

TEST(SyncTest, AQuietListDropsStaleTicketsAsItGrows) {
  Kernel k;
  WaitList quiet;
  k.Spawn(kNoNode, "waiter", [&] {
    for (int i = 0; i < 1000; ++i) {
      Scheduler& s = Scheduler::Current();
      quiet.Add(s.Arm());
      EXPECT_EQ(s.Park(k.Now() + Millis(1)), WakeReason::kTimedOut);
    }
  });
  k.RunUntil(kForever);
  EXPECT_LE(quiet.size(), 128u);  // timed-out tickets are pruned, not kept for ever
}

TEST(SyncTest, MainCanWaitOnAFutureWhileTheSimulationRuns) {
  Kernel k;
  Promise<int> p;
  k.Spawn(kNoNode, "setter", [&] {
    Sleep(Millis(4));
    p.Set(5);
  });
  EXPECT_EQ(p.GetFuture().Get(), 5);
  EXPECT_EQ(k.Now(), Millis(4));
}

}  // namespace
}  // namespace ksim
