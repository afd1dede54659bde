#include "sim/kernel/kernel.h"

#include <string>
#include <vector>

#include "engine/runtime/sync.h"
#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(KernelTest, SleepAdvancesVirtualTimeOnly) {
  Kernel k;
  std::vector<TimeNs> woke;
  k.Spawn(kNoNode, "a", [&] {
    Sleep(Millis(5));
    woke.push_back(k.Now());
    Sleep(Seconds(3600));  // an hour of virtual time costs nothing
    woke.push_back(k.Now());
  });
  k.RunUntil(kForever);
  ASSERT_EQ(woke.size(), 2u);
  EXPECT_EQ(woke[0], Millis(5));
  EXPECT_EQ(woke[1], Millis(5) + Seconds(3600));
}

TEST(KernelTest, EventsAtTheSameTimeRunInScheduleOrder) {
  Kernel k;
  std::string order;
  k.At(Millis(1), [&] { order += "a"; });
  k.At(Millis(1), [&] { order += "b"; });
  k.At(Millis(0), [&] { order += "0"; });
  k.At(Millis(1), [&] { order += "c"; });
  k.RunUntil(kForever);
  EXPECT_EQ(order, "0abc");
}

TEST(KernelTest, FibersWakingAtTheSameTimeRunInArmOrder) {
  Kernel k;
  std::string order;
  for (char c : std::string("xyz")) {
    k.Spawn(kNoNode, std::string(1, c), [&order, c] {
      Sleep(Millis(1));
      order += c;
    });
  }
  k.RunUntil(kForever);
  EXPECT_EQ(order, "xyz");
}

TEST(KernelTest, RunUntilStopsAtTheLimitAndResumes) {
  Kernel k;
  int ticks = 0;
  k.Spawn(kNoNode, "ticker", [&] {
    for (;;) {
      Sleep(Millis(10));
      ++ticks;
    }
  });
  k.RunUntil(Millis(55));
  EXPECT_EQ(ticks, 5);
  EXPECT_EQ(k.Now(), Millis(55));
  k.RunUntil(Millis(100));
  EXPECT_EQ(ticks, 10);
  EXPECT_EQ(k.live_fibers(), 1u);
}  // the destructor unwinds the ticker

TEST(KernelTest, CrashUnwindsOnlyThatNodesFibersAndDropsItsState) {
  Kernel k;
  struct State {
    explicit State(int* d) : destroyed(d) {}
    ~State() { ++*destroyed; }
    int* destroyed;
  };
  int destroyed = 0;
  int unwound = 0;
  int other_ticks = 0;
  NodeId a = k.AddNode("a", [&] {
    k.SetNodeState(k.CurrentNode(), std::make_shared<State>(&destroyed));
    struct Guard {
      int* n;
      ~Guard() { ++*n; }
    } g{&unwound};
    Sleep(kForever);
  });
  NodeId b = k.AddNode("b", [&] {
    for (;;) {
      Sleep(Millis(1));
      ++other_ticks;
    }
  });
  k.Start(a);
  k.Start(b);
  k.RunUntil(Millis(10));
  EXPECT_TRUE(k.IsUp(a));
  k.Crash(a);
  k.RunUntil(Millis(20));
  EXPECT_FALSE(k.IsUp(a));
  EXPECT_EQ(unwound, 1);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(other_ticks, 20);  // b never noticed
  k.Restart(a);
  k.RunUntil(Millis(30));
  EXPECT_TRUE(k.IsUp(a));
  EXPECT_EQ(k.Incarnation(a), 2u);
  EXPECT_EQ(destroyed, 1);
}

TEST(KernelTest, CrashFromInsideTheNodeUnwindsAtTheNextBlockingPoint) {
  Kernel k;
  bool after_crash_ran = false;
  bool after_sleep_ran = false;
  NodeId a = k.AddNode("a", [&] {
    k.Crash(k.CurrentNode());
    after_crash_ran = true;  // still runs: no blocking point yet
    Sleep(1);
    after_sleep_ran = true;
  });
  k.Start(a);
  k.RunUntil(kForever);
  EXPECT_TRUE(after_crash_ran);
  EXPECT_FALSE(after_sleep_ran);
  EXPECT_EQ(k.live_fibers(), 0u);
}

TEST(KernelTest, CrashListenersSeeTheNode) {
  Kernel k;
  std::vector<NodeId> seen;
  k.OnCrash([&](NodeId n) { seen.push_back(n); });
  NodeId a = k.AddNode("a", nullptr);
  k.Start(a);
  k.Crash(a);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], a);
}

TEST(KernelTest, TraceHashCoversRecordedEvents) {
  uint64_t h1, h2, h3;
  {
    Kernel k;
    k.Trace(kNoNode, "x", "1");
    h1 = k.trace().hash();
  }
  {
    Kernel k;
    k.Trace(kNoNode, "x", "1");
    h2 = k.trace().hash();
  }
  {
    Kernel k;
    k.Trace(kNoNode, "x", "2");
    h3 = k.trace().hash();
  }
  EXPECT_EQ(h1, h2);
  EXPECT_NE(h1, h3);
}

TEST(KernelTest, SpawnedFiberRunsAfterTheSpawner) {
  Kernel k;
  std::string order;
  k.Spawn(kNoNode, "parent", [&] {
    k.Spawn(kNoNode, "child", [&] { order += "c"; });
    order += "p";
  });
  k.RunUntil(kForever);
  EXPECT_EQ(order, "pc");
}

TEST(KernelDeathTest, DeadlockIsReported) {
  EXPECT_DEATH(
      {
        Kernel k;
        Promise<int> never;
        Future<int> f = never.GetFuture();
        f.Get();  // main blocks forever with nothing scheduled
      },
      "deadlock");
}

}  // namespace
}  // namespace ksim
