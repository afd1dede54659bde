#include "sim/disk/disk.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace ksim {
namespace {

struct Blob : Payload {
  explicit Blob(int v) : value(v) {}
  int value;
};

Chunk C(int64_t size, int v = 0) { return Chunk{size, std::make_shared<Blob>(v), false}; }

// Runs `body` in a fiber of node 0 and the simulation to the end.
template <typename F>
void InFiber(Kernel& k, F body) {
  k.Spawn(0, "test", body);
  k.RunUntil(kForever);
}

struct Fixture {
  explicit Fixture(DiskProfile p = DiskProfile::Commodity2014()) : disk(kernel, Node(), p) {}
  NodeId Node() {
    node = kernel.AddNode("broker-1", nullptr);
    kernel.Start(node);
    return node;
  }
  Kernel kernel;
  NodeId node = 0;
  Disk disk;
};

TEST(DiskTest, AppendReadTruncateList) {
  Fixture f;
  InFiber(f.kernel, [&] {
    ASSERT_TRUE(f.disk.Append("data/t-0/0.log", C(100, 1)).ok());
    ASSERT_TRUE(f.disk.Append("data/t-0/0.log", C(50, 2)).ok());
    ASSERT_TRUE(f.disk.Append("data/t-1/0.log", C(10, 3)).ok());
    EXPECT_EQ(*f.disk.Size("data/t-0/0.log"), 150);
    auto r = f.disk.Read("data/t-0/0.log", 120, 10);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(static_cast<const Blob&>(*(*r)[0].content).value, 2);
    EXPECT_EQ(f.disk.ReadAll("data/t-0/0.log")->size(), 2u);
    EXPECT_FALSE(f.disk.Truncate("data/t-0/0.log", 120).ok());  // not a boundary
    EXPECT_TRUE(f.disk.Truncate("data/t-0/0.log", 100).ok());
    EXPECT_EQ(*f.disk.Size("data/t-0/0.log"), 100);
    EXPECT_EQ(f.disk.List("data/"),
              (std::vector<std::string>{"data/t-0/0.log", "data/t-1/0.log"}));
    EXPECT_TRUE(absl::IsNotFound(f.disk.Read("nope", 0, 1).status()));
    EXPECT_TRUE(f.disk.Delete("data/t-1/0.log").ok());
    EXPECT_FALSE(f.disk.Exists("data/t-1/0.log"));
  });
}

TEST(DiskTest, CacheHitIsMemorySpeedMissCostsTheDevice) {
  DiskProfile p;
  p.page_cache_bytes = 1000;
  Fixture f(p);
  DurationNs hit = 0, miss = 0;
  InFiber(f.kernel, [&] {
    ASSERT_TRUE(f.disk.Append("a", C(800)).ok());
    ASSERT_TRUE(f.disk.Fsync("a").ok());  // clean, so it can be evicted
    ASSERT_TRUE(f.disk.Append("b", C(800)).ok());  // evicts a
    TimeNs t = f.kernel.Now();
    (void)f.disk.Read("b", 0, 800);
    hit = f.kernel.Now() - t;
    t = f.kernel.Now();
    (void)f.disk.Read("a", 0, 800);
    miss = f.kernel.Now() - t;
  });
  EXPECT_LT(hit, kMicrosecond);
  EXPECT_GE(miss, 8 * kMillisecond);
  EXPECT_GT(f.disk.stats().bytes_read_from_device, 0);
}

TEST(DiskTest, DeviceRequestsQueue) {
  Fixture f;
  TimeNs done1 = 0, done2 = 0;
  f.kernel.Spawn(0, "a", [&] {
    (void)f.disk.Append("a", C(1'500'000));  // 10 ms of device time at 150 MB/s
    (void)f.disk.Fsync("a");
    done1 = f.kernel.Now();
  });
  f.kernel.Spawn(0, "b", [&] {
    (void)f.disk.Append("b", C(1'500'000));
    (void)f.disk.Fsync("b");
    done2 = f.kernel.Now();
  });
  f.kernel.RunUntil(kForever);
  // Each fsync: 8 ms latency + 10 ms transfer + 8 ms flush; the second waits for the first.
  EXPECT_EQ(done2 - done1, 26 * kMillisecond);
}

TEST(DiskTest, FsyncMakesDataDurableAndPowerLossDropsTheRest) {
  DiskProfile p;
  p.tear_on_power_loss = false;
  Fixture f(p);
  InFiber(f.kernel, [&] {
    (void)f.disk.Append("log", C(100, 1));
    (void)f.disk.Fsync("log");
    (void)f.disk.Append("log", C(100, 2));
    EXPECT_EQ(f.disk.DurableSize("log"), 100);
    f.disk.ProcessCrash();
    EXPECT_EQ(*f.disk.Size("log"), 200);  // a process crash keeps the page cache
    f.disk.PowerLoss();
    EXPECT_EQ(*f.disk.Size("log"), 100);
    EXPECT_EQ(f.disk.ReadAll("log")->size(), 1u);
  });
}

TEST(DiskTest, BackgroundFlushWritesBackAfterTheExpiry) {
  Fixture f;
  InFiber(f.kernel, [&] {
    (void)f.disk.Append("log", C(100));
    Sleep(20 * kSecond);
    EXPECT_EQ(f.disk.DurableSize("log"), 0);  // younger than dirty_expire (30 s)
    Sleep(20 * kSecond);
    EXPECT_EQ(f.disk.DurableSize("log"), 100);
    EXPECT_EQ(f.disk.dirty_bytes(), 0);
  });
}

TEST(DiskTest, DirtyLimitIsTwentyPercentOfThePageCacheUnlessSetInBytes) {
  DiskProfile p;
  EXPECT_EQ(p.DirtyLimitBytes(), static_cast<int64_t>(0.2 * static_cast<double>(32LL << 30)));
  EXPECT_EQ(p.DirtyBackgroundBytes(), 1LL << 30);
  p.dirty_limit_bytes = 100'000'000;  // vm.dirty_bytes overrides vm.dirty_ratio
  EXPECT_EQ(p.DirtyLimitBytes(), 100'000'000);
  // A background threshold not below the limit becomes half the limit, as in the kernel.
  EXPECT_EQ(p.DirtyBackgroundBytes(), 50'000'000);
}

// A 10 MB/s disk (no access latency) with a 10 MB dirty limit and a 5 MB background threshold.
DiskProfile SlowDisk() {
  DiskProfile p;
  p.write_bytes_per_second = 10'000'000;
  p.write_latency_ns = 0;
  p.dirty_limit_bytes = 10'000'000;
  p.dirty_background_bytes = 5'000'000;
  return p;
}

TEST(DiskTest, AWriterFasterThanTheDiskIsThrottledAtTheDirtyLimit) {
  auto run = [](DiskProfile p, std::vector<TimeNs>& done, int64_t& max_dirty) {
    Fixture f(p);
    InFiber(f.kernel, [&] {
      for (int i = 0; i < 40; ++i) {  // 40 MB, 0.1 ms each at memory speed
        ASSERT_TRUE(f.disk.Append("log", C(1'000'000)).ok());
        done.push_back(f.kernel.Now());
        max_dirty = std::max(max_dirty, f.disk.dirty_bytes());
      }
      Sleep(60 * kSecond);
      EXPECT_EQ(f.disk.dirty_bytes(), 0);
      EXPECT_EQ(f.disk.stats().bytes_written_to_device, 40'000'000);
    });
    return f.disk.stats();
  };
  std::vector<TimeNs> done;
  int64_t max_dirty = 0;
  const DiskStats st = run(SlowDisk(), done, max_dirty);
  ASSERT_EQ(done.size(), 40u);
  // No append returns with more than the limit dirty; the first ten fit under it at memory
  // speed; then the writer goes at the disk's pace: 30 MB more must reach a 10 MB/s device.
  EXPECT_LE(max_dirty, 10'000'000);
  EXPECT_EQ(done[9], 10 * 100 * kMicrosecond);
  EXPECT_GE(done[39], 3 * kSecond);
  EXPECT_LT(done[39], 3 * kSecond + 100 * kMillisecond);
  const double mb_per_s = 30.0 / (static_cast<double>(done[39] - done[9]) / 1e9);
  EXPECT_NEAR(mb_per_s, 10.0, 0.1);
  // The writer blocks whenever an append takes it over the limit, until the write-back batch
  // on the device (6 MB, 0.6 s) completes: five times for these 40 MB.
  EXPECT_EQ(st.dirty_throttled_appends, 5);
  EXPECT_GT(st.dirty_throttled_ns, 2900 * kMillisecond);
  // Same run, same times.
  std::vector<TimeNs> again;
  int64_t unused = 0;
  run(SlowDisk(), again, unused);
  EXPECT_EQ(done, again);
  // Without the limit (the default 20 % of a 32 GiB cache) the disk does not slow the writer.
  DiskProfile unlimited = SlowDisk();
  unlimited.dirty_limit_bytes = 0;
  std::vector<TimeNs> free_run;
  const DiskStats st2 = run(unlimited, free_run, unused);
  EXPECT_EQ(free_run.back(), 40 * 100 * kMicrosecond);
  EXPECT_EQ(st2.dirty_throttled_appends, 0);
}

TEST(DiskTest, WriteBackWritesEachByteOnceAndFsyncQueuesBehindIt) {
  Fixture f(SlowDisk());
  TimeNs fsynced = -1;
  InFiber(f.kernel, [&] {
    // 8 MB in 100 KB appends: above the 5 MB threshold, background write-back runs batch
    // after batch; the limit is never reached.
    for (int i = 0; i < 80; ++i) ASSERT_TRUE(f.disk.Append("log", C(100'000)).ok());
    EXPECT_EQ(f.disk.stats().dirty_throttled_appends, 0);
    ASSERT_TRUE(f.disk.Fsync("log").ok());
    fsynced = f.kernel.Now();
    EXPECT_EQ(f.disk.dirty_bytes(), 0);
    EXPECT_EQ(f.disk.DurableSize("log"), 8'000'000);
  });
  // Every byte reaches the device once: 0.8 s at 10 MB/s, plus the fsync's flush latency.
  EXPECT_EQ(f.disk.stats().bytes_written_to_device, 8'000'000);
  EXPECT_EQ(f.disk.stats().device_busy_ns, 800 * kMillisecond + 8 * kMillisecond);
  // The device is busy from the 51st append on (5.1 MB dirty: the first batch); the fsync
  // writes only the 2.9 MB that batch does not hold, after it.
  EXPECT_EQ(fsynced, 51 * 10 * kMicrosecond + 800 * kMillisecond + 8 * kMillisecond);
}

TEST(DiskTest, PowerLossCanTearTheLastWrite) {
  int torn = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Kernel k(KernelOptions{.seed = seed});
    NodeId n = k.AddNode("broker-1", nullptr);
    k.Start(n);
    Disk d(k, n, DiskProfile{});
    k.Spawn(n, "t", [&] {
      (void)d.Append("log", C(100));
      (void)d.Fsync("log");
      (void)d.Append("log", C(100));
      d.PowerLoss();
      auto chunks = d.ReadAll("log");
      ASSERT_TRUE(chunks.ok());
      if (chunks->size() == 2) {
        EXPECT_TRUE((*chunks)[1].torn);
        EXPECT_LT((*chunks)[1].size_bytes, 100);
        ++torn;
      } else {
        EXPECT_EQ(chunks->size(), 1u);
      }
    });
    k.RunUntil(kForever);
  }
  EXPECT_GT(torn, 0);
  EXPECT_LT(torn, 20);
}

TEST(DiskTest, WriteAtomicallySurvivesPowerLoss) {
  Fixture f;
  InFiber(f.kernel, [&] {
    ASSERT_TRUE(f.disk.WriteAtomically("checkpoint", C(20, 5)).ok());
    f.disk.PowerLoss();
    auto c = f.disk.ReadAll("checkpoint");
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->size(), 1u);
    EXPECT_EQ(static_cast<const Blob&>(*(*c)[0].content).value, 5);
  });
}

TEST(DiskTest, SlowdownMultipliesDeviceTime) {
  auto fsync_time = [](double factor) {
    Fixture f;
    f.disk.SetSlowdown(factor);
    DurationNs t = 0;
    InFiber(f.kernel, [&] {
      (void)f.disk.Append("a", C(1'500'000));
      TimeNs s = f.kernel.Now();
      (void)f.disk.Fsync("a");
      t = f.kernel.Now() - s;
    });
    return t;
  };
  EXPECT_EQ(fsync_time(10), 10 * fsync_time(1));
}

TEST(DiskTest, CacheListStaysBoundedUnderRewritesAndDeletes) {
  Fixture f(DiskProfile::Nvme());
  InFiber(f.kernel, [&] {
    for (int i = 0; i < 20000; ++i) {
      // A checkpoint rewritten in place, and segments appended then deleted (retention).
      ASSERT_TRUE(f.disk.WriteAtomically("data/t-0/checkpoint", C(8)).ok());
      const std::string seg = "data/t-0/" + std::to_string(i) + ".log";
      ASSERT_TRUE(f.disk.Append(seg, C(100)).ok());
      ASSERT_TRUE(f.disk.Delete(seg).ok());
    }
    ASSERT_TRUE(f.disk.Append("data/t-0/live.log", C(100, 7)).ok());
  });
  EXPECT_LE(f.disk.cache_list_entries(), 8192u);
  EXPECT_EQ(f.disk.cached_bytes(), 8 + 100);
}

}  // namespace
}  // namespace ksim
