#include "engine/log/log.h"

#include "gtest/gtest.h"
#include "sim/disk/disk.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

BatchPtr Batch(int n, uint64_t first_id = 1, int value_size = 100) {
  RecordBatchBuilder b;
  for (int i = 0; i < n; ++i) b.Add(first_id + static_cast<uint64_t>(i), i, 4, value_size, 1000);
  return b.Build();
}

// Runs `body(disk)` in a fiber of a node with a simulated disk.
template <typename F>
void WithDisk(F body, DiskProfile p = DiskProfile::Nvme()) {
  Kernel k;
  NodeId n = k.AddNode("broker-1", nullptr);
  k.Start(n);
  Disk disk(k, n, p);
  k.Spawn(n, "test", [&] { body(k, disk); });
  k.RunUntil(kForever);
}

TEST(LogTest, AppendAssignsOffsetsAndEpochsAndReadsBack) {
  WithDisk([](Kernel&, Disk& disk) {
    auto log = *PartitionLog::Open(disk, "data/t-0", LogConfig{});
    auto a = log->AppendAsLeader(Batch(3), 0, 1000);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->first_offset, 0);
    EXPECT_EQ(a->last_offset, 2);
    auto b = log->AppendAsLeader(Batch(2, 10), 1, 1000);
    EXPECT_EQ(b->first_offset, 3);
    EXPECT_EQ(log->log_end_offset(), 5);
    EXPECT_EQ(log->LatestEpoch(), 1);
    auto r = log->Read(3, 1 << 20, log->log_end_offset(), true);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0]->base_offset(), 3);
    EXPECT_EQ((*r)[0]->partition_leader_epoch(), 1);
    EXPECT_EQ((*r)[0]->record_id(1), 11u);
    // Reads stop at max_offset (the HW for consumers).
    EXPECT_EQ(log->Read(0, 1 << 20, 3, true)->size(), 1u);
    // A read from inside a batch returns the whole batch.
    EXPECT_EQ((*log->Read(1, 1 << 20, 5, true))[0]->base_offset(), 0);
    // min_one_message returns a batch larger than max_bytes.
    EXPECT_EQ(log->Read(0, 1, 5, true)->size(), 1u);
    EXPECT_EQ(log->Read(0, 1, 5, false)->size(), 0u);
    EXPECT_TRUE(absl::IsOutOfRange(log->Read(6, 100, 6, true).status()));
  });
}

TEST(LogTest, EpochCacheAnswersLikeKip101And279) {
  LeaderEpochCache c;
  c.Assign(0, 0);
  c.Assign(2, 10);
  c.Assign(4, 30);
  EXPECT_EQ(c.EndOffsetFor(0, 50), (EpochEndOffset{0, 10}));
  EXPECT_EQ(c.EndOffsetFor(1, 50), (EpochEndOffset{0, 10}));  // largest epoch <= 1
  EXPECT_EQ(c.EndOffsetFor(2, 50), (EpochEndOffset{2, 30}));
  EXPECT_EQ(c.EndOffsetFor(3, 50), (EpochEndOffset{2, 30}));
  EXPECT_EQ(c.EndOffsetFor(4, 50), (EpochEndOffset{4, 50}));  // latest: ends at the LEO
  EXPECT_EQ(c.EndOffsetFor(5, 50), (EpochEndOffset{}));
  EXPECT_FALSE(c.Assign(3, 40));  // epochs never go backwards
  // An epoch older than the first known one ends where the first starts (Kafka's answer).
  LeaderEpochCache later;
  later.Assign(5, 100);
  EXPECT_EQ(later.EndOffsetFor(3, 150), (EpochEndOffset{3, 100}));
  EXPECT_EQ(later.EndOffsetFor(-1, 150), (EpochEndOffset{}));
  c.TruncateFromEnd(30);
  EXPECT_EQ(c.LatestEpoch(), 2);
  c.TruncateFromStart(15);
  EXPECT_EQ(c.entries().front(), (EpochEntry{2, 15}));
}

TEST(LogTest, TruncatingAtTheEndStillDropsAnEmptyTrailingEpoch) {
  // A replica that led epoch 3 without appending anything, then follows a leader that never
  // had epoch 3: truncating to its own end must forget epoch 3, or it would keep reporting it
  // as its last fetched epoch (found by the nemesis hour: an endless diverging-epoch loop).
  WithDisk([](Kernel&, Disk& disk) {
    auto log = *PartitionLog::Open(disk, "data/t-0", LogConfig{});
    (void)log->AppendAsLeader(Batch(5), 1, 1000);
    log->AssignEpoch(3, log->log_end_offset());
    EXPECT_EQ(log->LatestEpoch(), 3);
    log->TruncateTo(log->log_end_offset());
    EXPECT_EQ(log->LatestEpoch(), 1);
    EXPECT_EQ(log->log_end_offset(), 5);
  });
}

TEST(LogTest, TruncateDropsTheTailAndItsEpochs) {
  WithDisk([](Kernel&, Disk& disk) {
    auto log = *PartitionLog::Open(disk, "data/t-0", LogConfig{});
    (void)log->AppendAsLeader(Batch(5), 0, 1000);
    (void)log->AppendAsLeader(Batch(5), 1, 1000);
    log->UpdateHighWatermark(10);
    log->TruncateTo(5);
    EXPECT_EQ(log->log_end_offset(), 5);
    EXPECT_EQ(log->high_watermark(), 5);
    EXPECT_EQ(log->LatestEpoch(), 0);
    auto info = log->AppendAsLeader(Batch(1), 2, 1000);
    EXPECT_EQ(info->first_offset, 5);
  });
}

TEST(LogTest, RecoveryAfterPowerLossCutsTheTornTail) {
  DiskProfile p = DiskProfile::Nvme();
  p.tear_on_power_loss = true;
  WithDisk(
      [](Kernel&, Disk& disk) {
        {
          LogConfig c;
          c.flush_interval_messages = 5;  // fsync after every 5 records
          auto log = *PartitionLog::Open(disk, "data/t-0", c);
          (void)log->AppendAsLeader(Batch(5), 0, 1000);  // flushed
          (void)log->AppendAsLeader(Batch(3), 0, 1000);  // not flushed
          log->UpdateHighWatermark(5);
          ASSERT_TRUE(log->CheckpointHighWatermark().ok());
        }
        disk.PowerLoss();
        auto log = PartitionLog::Open(disk, "data/t-0", LogConfig{});
        ASSERT_TRUE(log.ok()) << log.status();
        EXPECT_EQ((*log)->log_end_offset(), 5);
        EXPECT_EQ((*log)->high_watermark(), 5);
        EXPECT_EQ((*log)->LatestEpoch(), 0);
        auto again = (*log)->AppendAsLeader(Batch(1), 1, 1000);
        EXPECT_EQ(again->first_offset, 5);
      },
      p);
}

TEST(LogTest, ProcessCrashKeepsEverythingInThePageCache) {
  WithDisk([](Kernel&, Disk& disk) {
    {
      auto log = *PartitionLog::Open(disk, "data/t-0", LogConfig{});
      (void)log->AppendAsLeader(Batch(5), 3, 1000);
    }
    disk.ProcessCrash();
    auto log = *PartitionLog::Open(disk, "data/t-0", LogConfig{});
    EXPECT_EQ(log->log_end_offset(), 5);
    EXPECT_EQ(log->LatestEpoch(), 3);
    EXPECT_EQ(log->high_watermark(), 0);  // never checkpointed
  });
}

TEST(LogTest, SegmentsRollAndRetentionDeletesOldOnesBelowTheHw) {
  WithDisk([](Kernel&, Disk& disk) {
    LogConfig c;
    c.segment_bytes = 1000;
    c.retention_bytes = 1500;
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    for (int i = 0; i < 10; ++i) (void)log->AppendAsLeader(Batch(4), 0, 1000);  // ~500 B each
    EXPECT_GE(log->segment_count(), 4u);
    EXPECT_EQ(log->DeleteOldSegments(2000), 0);  // nothing below the HW yet
    log->UpdateHighWatermark(log->log_end_offset());
    EXPECT_GT(log->DeleteOldSegments(2000), 0);
    EXPECT_GT(log->log_start_offset(), 0);
    EXPECT_LE(log->size_bytes(), 2000);
    EXPECT_TRUE(absl::IsOutOfRange(log->Read(0, 100, 100, true).status()));
  });
}

// Kafka's recovery point: after a power loss, segments below it load from their index files
// (no rescan of their data); the segments from it on are rescanned, and what the page cache
// lost is gone.
TEST(LogTest, RecoveryRescansOnlyFromTheRecoveryPoint) {
  DiskProfile p = DiskProfile::Nvme();
  p.page_cache_bytes = 1;  // nothing stays cached: every read after the crash hits the device
  WithDisk(
      [](Kernel&, Disk& disk) {
        LogConfig c;
        c.segment_bytes = 2000;
        int64_t flushed_end = 0;
        {
          auto log = *PartitionLog::Open(disk, "data/t-0", c);
          for (int i = 0; i < 20; ++i) {
            (void)log->AppendAsLeader(Batch(4, 1 + 4 * i), i < 10 ? 0 : 2, 1000);
          }
          ASSERT_GE(log->segment_count(), 5u);
          EXPECT_EQ(log->recovery_point(), 0);
          ASSERT_TRUE(log->FlushClosedSegments().ok());
          flushed_end = log->active_segment_base();
          EXPECT_EQ(log->recovery_point(), flushed_end);
          ASSERT_TRUE(log->CheckpointRecoveryPoint().ok());
          log->UpdateHighWatermark(flushed_end);
          ASSERT_TRUE(log->CheckpointHighWatermark().ok());
          (void)log->AppendAsLeader(Batch(4, 1000), 2, 1000);  // never flushed
        }
        disk.PowerLoss();
        const int64_t read_before = disk.stats().bytes_read_from_device;
        auto log = *PartitionLog::Open(disk, "data/t-0", c);
        const int64_t recovery_read = disk.stats().bytes_read_from_device - read_before;
        EXPECT_GE(log->segments_loaded_from_index(), 4);
        EXPECT_LE(log->segments_rescanned(), 1);
        EXPECT_EQ(log->log_end_offset(), flushed_end);  // the active segment was in the cache
        EXPECT_EQ(log->recovery_point(), flushed_end);
        // Index files are a small fraction of the data they describe.
        EXPECT_LT(recovery_read, log->size_bytes() / 4);
        // The loaded log reads back, with its epochs.
        auto batches = log->Read(0, 1 << 20, flushed_end, true);
        ASSERT_TRUE(batches.ok());
        ASSERT_FALSE(batches->empty());
        EXPECT_EQ((*batches)[0]->record_id(0), 1u);
        EXPECT_EQ(batches->back()->last_offset() + 1, flushed_end);
        EXPECT_EQ(log->LatestEpoch(), 2);
        EXPECT_EQ(log->EndOffsetForEpoch(0), (EpochEndOffset{0, 40}));
        auto next = log->AppendAsLeader(Batch(1), 3, 1000);
        ASSERT_TRUE(next.ok());
        EXPECT_EQ(next->first_offset, flushed_end);
      },
      p);
}

TEST(LogTest, WithoutARecoveryPointEverySegmentIsRescanned) {
  WithDisk([](Kernel&, Disk& disk) {
    LogConfig c;
    c.segment_bytes = 2000;
    {
      auto log = *PartitionLog::Open(disk, "data/t-0", c);
      for (int i = 0; i < 20; ++i) (void)log->AppendAsLeader(Batch(4), 0, 1000);
    }
    disk.ProcessCrash();
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    EXPECT_EQ(log->segments_loaded_from_index(), 0);
    EXPECT_EQ(static_cast<size_t>(log->segments_rescanned()), log->segment_count());
    EXPECT_EQ(log->log_end_offset(), 80);
  });
}

TEST(LogTest, TruncationLowersTheRecoveryPointAndDropsTheCutSegmentsIndex) {
  WithDisk([](Kernel&, Disk& disk) {
    LogConfig c;
    c.segment_bytes = 2000;
    auto log = *PartitionLog::Open(disk, "data/t-0", c);
    for (int i = 0; i < 20; ++i) (void)log->AppendAsLeader(Batch(4), 0, 1000);
    ASSERT_TRUE(log->FlushClosedSegments().ok());
    const int64_t rp = log->recovery_point();
    ASSERT_GT(rp, 20);
    log->TruncateTo(18);  // inside an indexed segment
    EXPECT_EQ(log->recovery_point(), log->log_end_offset());
    EXPECT_LE(log->log_end_offset(), 18);
    ASSERT_TRUE(log->CheckpointRecoveryPoint().ok());
    (void)log->AppendAsLeader(Batch(4), 1, 1000);
    disk.ProcessCrash();
    auto again = *PartitionLog::Open(disk, "data/t-0", c);
    EXPECT_EQ(again->log_end_offset(), log->log_end_offset());
    EXPECT_EQ(again->LatestEpoch(), 1);
  });
}

TEST(LogTest, FollowerAppendKeepsLeaderOffsetsAndEpochs) {
  WithDisk([](Kernel&, Disk& disk) {
    auto leader = *PartitionLog::Open(disk, "data/l", LogConfig{});
    auto follower = *PartitionLog::Open(disk, "data/f", LogConfig{});
    (void)leader->AppendAsLeader(Batch(2), 0, 1000);
    (void)leader->AppendAsLeader(Batch(2), 4, 1000);
    auto batches = leader->Read(0, 1 << 20, 4, true);
    ASSERT_TRUE(batches.ok());
    for (const BatchPtr& b : *batches) {
      ASSERT_TRUE(follower->AppendAsFollower(b).ok());
    }
    EXPECT_EQ(follower->log_end_offset(), 4);
    EXPECT_EQ(follower->EndOffsetForEpoch(0), (EpochEndOffset{0, 2}));
    EXPECT_EQ(follower->LatestEpoch(), 4);
  });
}

TEST(LogTest, SyntheticRecordsCostAtMost32BytesEach) {
  BatchPtr b = Batch(100);
  EXPECT_LE(b->memory_bytes(), 100 * 32 + 256u);
  EXPECT_EQ(sizeof(SyntheticRecord), 32u);
  // Re-basing shares the records.
  BatchPtr placed = b->WithBaseOffset(42, 7);
  EXPECT_EQ(&placed->record(0), &b->record(0));
  EXPECT_EQ(placed->last_offset(), 141);
}

}  // namespace
}  // namespace ksim
