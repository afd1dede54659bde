// Log compaction (PartitionLog::Clean): Kafka's LogCleaner semantics on the simulated disk.
#include <map>
#include <set>

#include "engine/log/log.h"
#include "gtest/gtest.h"
#include "sim/disk/disk.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

constexpr int kKeys = 5;

// Record ids are offset + 1 when batches are appended in order from offset 0; keys cycle.
BatchPtr Keyed(int64_t first_offset, int n, int keys = kKeys, int64_t ts = 1000,
               int64_t producer_id = -1) {
  RecordBatchBuilder b;
  if (producer_id >= 0) b.set_producer(producer_id, 0, static_cast<int32_t>(first_offset));
  for (int i = 0; i < n; ++i) {
    const int64_t o = first_offset + i;
    b.Add(static_cast<uint64_t>(o + 1), o % keys, 4, 100, ts);
  }
  return b.Build();
}

BatchPtr Tombstone(int64_t offset, int64_t key, int64_t ts) {
  RecordBatchBuilder b;
  b.Add(static_cast<uint64_t>(offset + 1), key, 4, -1, ts);
  return b.Build();
}

struct Rec {
  uint64_t id = 0;
  int64_t key = 0;
  int32_t value_size = 0;
  bool operator==(const Rec&) const = default;
};

// Every record of the log by offset, read the way consumers do (base_offset + i).
std::map<int64_t, Rec> ReadAll(PartitionLog& log, int32_t max_bytes = 1 << 20) {
  std::map<int64_t, Rec> out;
  int64_t pos = log.log_start_offset();
  while (pos < log.log_end_offset()) {
    auto r = log.Read(pos, max_bytes, log.log_end_offset(), true);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || r->empty()) break;
    for (const BatchPtr& b : *r) {
      EXPECT_LE(b->base_offset(), pos);
      for (int32_t i = 0; i < b->record_count(); ++i) {
        const int64_t o = b->base_offset() + i;
        if (o < pos) continue;
        out[o] = Rec{b->record_id(i), b->key_hash(i), b->value_size(i)};
      }
      pos = std::max(pos, b->last_offset() + 1);
    }
  }
  return out;
}

LogConfig Compacted(int64_t segment_bytes = 1000) {
  LogConfig c;
  c.compact = true;
  c.delete_retention = false;
  c.segment_bytes = segment_bytes;
  return c;
}

const CleanerCpu kNoCpu = [](int64_t, int64_t) {};

template <typename F>
void WithDisk(F body) {
  Kernel k;
  NodeId n = k.AddNode("broker-1", nullptr);
  k.Start(n);
  Disk disk(k, n, DiskProfile::Nvme());
  k.Spawn(n, "test", [&] { body(k, disk); });
  k.RunUntil(kForever);
}

// Appends `batches` batches of 4 keyed records and moves the HW to the end.
void Fill(PartitionLog& log, int batches, int keys = kKeys) {
  for (int i = 0; i < batches; ++i) {
    ASSERT_TRUE(log.AppendAsLeader(Keyed(log.log_end_offset(), 4, keys), 0, 1000).ok());
  }
  log.UpdateHighWatermark(log.log_end_offset());
}

// The first offset of the active segment (what a clean may not touch).
int64_t ActiveBase(PartitionLog& log, const LogConfig& c) {
  return log.Cleanable(c, 1000).first_uncleanable_offset;
}

TEST(LogCleanerTest, KeepsTheLatestRecordPerKeyAtItsOffset) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted();
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    Fill(*log, 30);  // 120 records, ~500 B per batch: many segments
    const int64_t bytes_before = log->size_bytes();
    const auto before = ReadAll(*log);
    const int64_t active = ActiveBase(*log, c);
    ASSERT_GT(active, 20);
    CleanStats st = log->Clean(c, 1000, kNoCpu);
    EXPECT_TRUE(st.cleaned);
    EXPECT_EQ(st.end_offset, active);
    EXPECT_LT(log->size_bytes(), bytes_before / 3);
    EXPECT_EQ(log->log_start_offset(), 0);
    EXPECT_EQ(log->log_end_offset(), 120);
    EXPECT_EQ(log->high_watermark(), 120);
    const auto after = ReadAll(*log);
    // Below the active segment: exactly the last record of each key there, at its offset.
    std::map<int64_t, int64_t> last_of_key;
    for (const auto& [o, r] : before) {
      if (o < active) last_of_key[r.key] = o;
    }
    for (const auto& [o, r] : after) {
      EXPECT_EQ(r.id, before.at(o).id) << "offset " << o << " moved";
      if (o < active) {
        EXPECT_EQ(last_of_key.at(r.key), o);
      }
    }
    size_t below = 0;
    for (const auto& [o, r] : after) below += o < active ? 1 : 0;
    EXPECT_EQ(below, static_cast<size_t>(kKeys));
    // The active segment is untouched.
    for (int64_t o = active; o < 120; ++o) EXPECT_EQ(after.at(o).id, before.at(o).id);
    // Nothing left to clean.
    EXPECT_EQ(log->Cleanable(c, 1000).dirty_bytes, 0);
    EXPECT_FALSE(log->Clean(c, 1000, kNoCpu).cleaned);
    // The next pass merges the small cleaned segments (groups of up to segment.bytes).
    const size_t segments = log->segment_count();
    Fill(*log, 4);
    ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
    EXPECT_LT(log->segment_count(), segments);
    size_t kept = 0;
    const int64_t now_active = ActiveBase(*log, c);
    for (const auto& [o, r] : ReadAll(*log)) kept += o < now_active ? 1 : 0;
    EXPECT_EQ(kept, static_cast<size_t>(kKeys));
  });
}

TEST(LogCleanerTest, ReadsAndFollowersCrossCleanedSegments) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted();
    auto leader = *PartitionLog::Open(disk, "data/l", c);
    auto early = *PartitionLog::Open(disk, "data/f1", c);
    Fill(*leader, 30);
    // A follower that copied part of the log before the clean: its end falls mid-batch of the
    // cleaned leader's pieces.
    auto first_part = leader->Read(0, 1 << 20, 38, true);
    ASSERT_TRUE(first_part.ok());
    for (const BatchPtr& b : *first_part) {
      ASSERT_TRUE(early->AppendAsFollower(b).ok());
    }
    const int64_t early_end = early->log_end_offset();
    ASSERT_TRUE(leader->Clean(c, 1000, kNoCpu).cleaned);
    const auto want = ReadAll(*leader);
    // Reads from every offset start at the batch holding it; small reads still progress.
    for (int64_t o = 0; o < leader->log_end_offset(); ++o) {
      auto r = leader->Read(o, 1, leader->log_end_offset(), true);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->size(), 1u);
      EXPECT_LE((*r)[0]->base_offset(), o);
      EXPECT_GE((*r)[0]->last_offset(), o);
    }
    EXPECT_EQ(ReadAll(*leader, 1), want);
    // Followers fetch from their end, whatever the leader did to the batches.
    auto fresh = *PartitionLog::Open(disk, "data/f2", c);
    for (PartitionLog* f : {fresh.get(), early.get()}) {
      while (f->log_end_offset() < leader->log_end_offset()) {
        auto r = leader->Read(f->log_end_offset(), 300, leader->log_end_offset(), true);
        ASSERT_TRUE(r.ok());
        for (const BatchPtr& b : *r) {
          if (b->last_offset() < f->log_end_offset()) continue;
          ASSERT_TRUE(f->AppendAsFollower(b).ok());
        }
      }
      EXPECT_EQ(f->log_end_offset(), leader->log_end_offset());
    }
    EXPECT_EQ(ReadAll(*fresh), want);
    auto got = ReadAll(*early);
    for (const auto& [o, r] : want) EXPECT_EQ(got.at(o).id, r.id);
    for (const auto& [o, r] : got) {
      if (o >= early_end) {
        EXPECT_EQ(want.count(o), 1u) << o;
      }
    }
    // The epoch cache still answers.
    EXPECT_EQ(leader->EndOffsetForEpoch(0), (EpochEndOffset{0, 120}));
  });
}

TEST(LogCleanerTest, TombstonesStayUntilDeleteRetentionThenGo) {
  WithDisk([](Kernel&, Disk& disk) {
    LogConfig c = Compacted(600);
    c.delete_retention_ms = 5000;
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    Fill(*log, 4);  // keys 0..4
    ASSERT_TRUE(log->AppendAsLeader(Tombstone(log->log_end_offset(), 2, 1000), 0, 1000).ok());
    const int64_t tombstone = log->log_end_offset() - 1;
    auto more = [&](int batches) {
      // Other keys, so the tombstone stays the latest record of key 2.
      for (int i = 0; i < batches; ++i) {
        RecordBatchBuilder b;
        for (int j = 0; j < 4; ++j) {
          b.Add(9000 + static_cast<uint64_t>(i * 4 + j), 100 + j, 4, 100, 1000);
        }
        ASSERT_TRUE(log->AppendAsLeader(b.Build(), 0, 1000).ok());
      }
      log->UpdateHighWatermark(log->log_end_offset());
    };
    more(4);
    ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
    auto after = ReadAll(*log);
    ASSERT_EQ(after.count(tombstone), 1u);  // the delete marker stays for consumers
    EXPECT_EQ(after.at(tombstone).value_size, -1);
    for (const auto& [o, r] : after) EXPECT_FALSE(r.key == 2 && o != tombstone);
    more(4);
    ASSERT_TRUE(log->Clean(c, 5999, kNoCpu).cleaned);  // horizon 1000 + 5000 not reached
    EXPECT_EQ(ReadAll(*log).count(tombstone), 1u);
    more(4);
    CleanStats st = log->Clean(c, 6000, kNoCpu);
    ASSERT_TRUE(st.cleaned);
    EXPECT_EQ(st.tombstones_removed, 1);
    EXPECT_EQ(ReadAll(*log).count(tombstone), 0u);
    EXPECT_EQ(log->log_start_offset(), 0);  // compaction never moves the log start
  });
}

TEST(LogCleanerTest, DirtyRatioHighWatermarkAndLagBoundWhatIsCleanable) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted();
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    for (int i = 0; i < 30; ++i) {
      (void)log->AppendAsLeader(Keyed(log->log_end_offset(), 4), 0, 1000);
    }
    // Nothing below the HW: nothing cleanable.
    EXPECT_EQ(log->Cleanable(c, 1000).dirty_bytes, 0);
    EXPECT_FALSE(log->Clean(c, 1000, kNoCpu).cleaned);
    log->UpdateHighWatermark(log->log_end_offset());
    CleanableLog fresh = log->Cleanable(c, 1000);
    EXPECT_EQ(fresh.clean_bytes, 0);
    EXPECT_DOUBLE_EQ(fresh.dirty_ratio(), 1.0);
    EXPECT_TRUE(fresh.NeedsCleaning(0.5));
    // min.compaction.lag.ms: records younger than the lag stay dirty and uncleaned.
    LogConfig lag = c;
    lag.min_compaction_lag_ms = 10000;
    EXPECT_EQ(log->Cleanable(lag, 5000).dirty_bytes, 0);
    EXPECT_GT(log->Cleanable(lag, 20000).dirty_bytes, 0);
    ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
    // A little new data: a low dirty ratio, below the default threshold.
    Fill(*log, 3);
    CleanableLog after = log->Cleanable(c, 1000);
    ASSERT_GT(after.dirty_bytes, 0);
    ASSERT_GT(after.clean_bytes, 0);
    EXPECT_DOUBLE_EQ(after.dirty_ratio(), static_cast<double>(after.dirty_bytes) /
                                              static_cast<double>(after.clean_bytes +
                                                                  after.dirty_bytes));
    EXPECT_LT(after.dirty_ratio(), 0.5);
    EXPECT_FALSE(after.NeedsCleaning(0.5));
    EXPECT_TRUE(after.NeedsCleaning(after.dirty_ratio() / 2));
    // max.compaction.lag.ms forces a clean whatever the ratio (KIP-354).
    LogConfig max_lag = c;
    max_lag.max_compaction_lag_ms = 1;
    EXPECT_TRUE(log->Cleanable(max_lag, 5000).NeedsCleaning(0.5));
  });
}

TEST(LogCleanerTest, KeepsTheLastBatchOfEachProducerEvenWhenEmpty) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted(600);
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    // Producer 7 writes once (keys 0..3); everything it wrote is superseded later.
    ASSERT_TRUE(log->AppendAsLeader(Keyed(0, 4, kKeys, 1000, 7), 0, 1000).ok());
    Fill(*log, 20);
    ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
    bool found = false;
    auto r = log->Read(0, 1 << 20, log->log_end_offset(), true);
    for (const BatchPtr& b : *r) {
      if (b->producer_id() == 7) {
        found = true;
        EXPECT_EQ(b->record_count(), 0);
        EXPECT_EQ(b->base_sequence(), 0);
        EXPECT_EQ(b->last_sequence(), 3);
      }
    }
    EXPECT_TRUE(found);
  });
}

TEST(LogCleanerTest, RecoversReplacedFilesThatOutlivedACrash) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted();
    std::map<std::string, std::vector<Chunk>> old_files;
    std::map<int64_t, Rec> want;
    {
      auto log = *PartitionLog::Open(disk, "data/t-0", c);
      Fill(*log, 30);
      for (const std::string& p : disk.List("data/t-0/")) {
        if (p.ends_with(".log")) old_files[p] = *disk.ReadAll(p);
      }
      ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
      want = ReadAll(*log);
    }
    // As if the broker died after the commit point but before deleting the old segments.
    for (const auto& [p, chunks] : old_files) {
      if (disk.Exists(p)) continue;
      for (const Chunk& ch : chunks) ASSERT_TRUE(disk.Append(p, ch).ok());
    }
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    EXPECT_EQ(ReadAll(*log), want);
    EXPECT_EQ(log->log_end_offset(), 120);
  });
}

// A truncation below the cleaned section, then new segments that take the names of files a
// clean replaced: recovery must not mistake them for leftovers.
TEST(LogCleanerTest, NewSegmentsAfterATruncationSurviveRecovery) {
  WithDisk([](Kernel&, Disk& disk) {
    const LogConfig c = Compacted();
    std::map<int64_t, Rec> want;
    {
      auto log = *PartitionLog::Open(disk, "data/t-0", c);
      Fill(*log, 30);
      ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
      log->TruncateTo(0);  // e.g. an unclean leader election
      EXPECT_EQ(log->log_end_offset(), 0);
      Fill(*log, 30);
      want = ReadAll(*log);
      ASSERT_EQ(want.size(), 120u);
    }
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    EXPECT_EQ(log->log_end_offset(), 120);
    EXPECT_EQ(ReadAll(*log), want);
  });
}

// Crashes (with power loss) at many points of a clean; the recovered log is always either the
// old or a (partly) cleaned one: every offset keeps its record or lost a superseded one, the
// latest record of every key is there, and cleaning again converges.
TEST(LogCleanerTest, CrashDuringCleaningRecoversAConsistentLog) {
  const LogConfig c = Compacted();
  auto setup = [&](Disk& disk) {
    LogConfig durable = c;
    durable.flush_interval_messages = 1;  // every append fsynced: a power loss loses nothing
    auto log = *PartitionLog::Open(disk, "data/t-0", durable);
    Fill(*log, 30);
    EXPECT_TRUE(log->CheckpointHighWatermark().ok());
    return log;
  };
  // How long a clean takes.
  TimeNs start = 0, end = 0;
  std::map<int64_t, Rec> original, cleaned;
  WithDisk([&](Kernel& k, Disk& disk) {
    auto log = setup(disk);
    original = ReadAll(*log);
    start = k.Now();
    ASSERT_TRUE(log->Clean(c, 1000, kNoCpu).cleaned);
    end = k.Now();
    cleaned = ReadAll(*log);
  });
  ASSERT_GT(end, start);
  std::map<int64_t, int64_t> latest;  // key -> offset
  for (const auto& [o, r] : cleaned) latest[r.key] = std::max(latest[r.key], o);
  int partly = 0, unchanged = 0;
  for (int i = 0; i <= 40; ++i) {
    const DurationNs at = (end - start) * i / 40;
    Kernel k;
    NodeId broker = k.AddNode("broker-1", nullptr);
    NodeId driver = k.AddNode("driver", nullptr);
    k.Start(broker);
    k.Start(driver);
    Disk disk(k, broker, DiskProfile::Nvme());
    bool setup_done = false;
    TimeNs clean_start = 0;
    k.Spawn(broker, "cleaner", [&] {
      auto log = setup(disk);
      clean_start = k.Now();
      setup_done = true;
      (void)log->Clean(c, 1000, kNoCpu);
    });
    k.Spawn(driver, "driver", [&] {
      while (!setup_done) k.SleepUntil(k.Now() + kMicrosecond);
      k.SleepUntil(clean_start + at);
      k.Crash(broker);
      disk.PowerLoss();
      k.SleepUntil(k.Now() + kMillisecond);
      auto log = PartitionLog::Open(disk, "data/t-0", c);
      ASSERT_TRUE(log.ok()) << "crash at +" << at;
      EXPECT_EQ((*log)->log_end_offset(), 120) << "crash at +" << at;
      EXPECT_EQ((*log)->log_start_offset(), 0);
      EXPECT_EQ((*log)->high_watermark(), 120);
      auto got = ReadAll(**log);
      for (const auto& [o, r] : got) EXPECT_EQ(r.id, original.at(o).id) << "offset " << o;
      for (const auto& [key, o] : latest) EXPECT_EQ(got.count(o), 1u) << "key " << key;
      if (got.size() != original.size() && got.size() != cleaned.size()) ++partly;
      if (got == original) ++unchanged;
      // Cleaning again reaches the cleaned log.
      (void)(*log)->Clean(c, 1000, kNoCpu);
      EXPECT_EQ(ReadAll(**log), cleaned) << "crash at +" << at;
    });
    k.RunUntil(kForever);
  }
  // Some crashes came before the first swap, some between the swaps of two groups.
  EXPECT_GT(unchanged, 0);
  EXPECT_GT(partly, 0);
}

}  // namespace
}  // namespace ksim
