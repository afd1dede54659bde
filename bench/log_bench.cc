// Partition-log benchmarks: appends and reads per wall-clock second on one PartitionLog over
// the simulated disk (page cache + device), as tests/engine/log/log_test.cc builds it.
//
// Records are 100-byte values with 4-byte keys, 100 to a batch. The same batch is appended
// over and over (AppendAsLeader re-bases it onto the log, sharing the records), so the figure
// is the log's and the disk model's cost, not the cost of building batches.
// items_per_second = records, bytes_per_second = record value bytes (100 per record).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "engine/log/log.h"
#include "engine/runtime/check.h"
#include "sim/disk/disk.h"
#include "sim/kernel/kernel.h"

namespace ksim {
namespace {

constexpr int kRecordsPerBatch = 100;
constexpr int kValueBytes = 100;
constexpr int kBatchesPerIteration = 10000;  // 1 M records, ~115 MB of simulated log

BatchPtr MakeBatch() {
  RecordBatchBuilder b;
  for (int i = 0; i < kRecordsPerBatch; ++i) {
    b.Add(static_cast<uint64_t>(i + 1), i, 4, kValueBytes, 1000);
  }
  return b.Build();
}

// Runs `body(disk)` in a fiber of a node with a simulated NVMe disk.
template <typename F>
void WithDisk(F body) {
  Kernel k;
  NodeId n = k.AddNode("broker-1", nullptr);
  k.Start(n);
  Disk disk(k, n, DiskProfile::Nvme());
  k.Spawn(n, "bench", [&] { body(disk); });
  k.RunUntil(kForever);
}

// Appends 10,000 batches of 100 records as leader. Arg: segment.bytes (rolls included).
void BM_LogAppend(benchmark::State& state) {
  const BatchPtr batch = MakeBatch();
  LogConfig config;
  config.segment_bytes = state.range(0);
  int64_t segments = 0;
  for (auto _ : state) {
    WithDisk([&](Disk& disk) {
      auto log = PartitionLog::Open(disk, "data/t-0", config);
      KSIM_CHECK(log.ok());
      for (int i = 0; i < kBatchesPerIteration; ++i) {
        auto info = (*log)->AppendAsLeader(batch, 0, 1000);
        KSIM_CHECK(info.ok());
      }
      KSIM_CHECK((*log)->log_end_offset() ==
                 int64_t{kBatchesPerIteration} * kRecordsPerBatch);
      segments = static_cast<int64_t>((*log)->segment_count());
    });
  }
  const int64_t records = state.iterations() * kBatchesPerIteration * kRecordsPerBatch;
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kValueBytes);
  state.counters["batches_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kBatchesPerIteration), benchmark::Counter::kIsRate);
  state.counters["segments"] = static_cast<double>(segments);
}
BENCHMARK(BM_LogAppend)
    ->Arg(int64_t{1} << 30)  // default segment.bytes: one segment
    ->Arg(int64_t{1} << 20)  // 1 MiB segments: ~110 rolls per iteration
    ->Unit(benchmark::kMillisecond);

// Follower appends (offsets kept from the leader's batches).
void BM_LogAppendAsFollower(benchmark::State& state) {
  const BatchPtr batch = MakeBatch();
  for (auto _ : state) {
    WithDisk([&](Disk& disk) {
      auto log = PartitionLog::Open(disk, "data/t-0", LogConfig{});
      KSIM_CHECK(log.ok());
      for (int i = 0; i < kBatchesPerIteration; ++i) {
        BatchPtr b = batch->WithBaseOffset(int64_t{i} * kRecordsPerBatch, 0);
        KSIM_CHECK((*log)->AppendAsFollower(b).ok());
      }
    });
  }
  const int64_t records = state.iterations() * kBatchesPerIteration * kRecordsPerBatch;
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kValueBytes);
}
BENCHMARK(BM_LogAppendAsFollower)->Unit(benchmark::kMillisecond);

// As BM_LogAppend, but every batch is built afresh (100 records each) before its append, as a
// broker receiving distinct producer batches would hold them: the per-record cost shows.
void BM_LogAppendFreshBatches(benchmark::State& state) {
  for (auto _ : state) {
    WithDisk([&](Disk& disk) {
      auto log = PartitionLog::Open(disk, "data/t-0", LogConfig{});
      KSIM_CHECK(log.ok());
      for (int i = 0; i < kBatchesPerIteration; ++i) {
        KSIM_CHECK((*log)->AppendAsLeader(MakeBatch(), 0, 1000).ok());
      }
    });
  }
  const int64_t records = state.iterations() * kBatchesPerIteration * kRecordsPerBatch;
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kValueBytes);
}
BENCHMARK(BM_LogAppendFreshBatches)->Unit(benchmark::kMillisecond);

// Sequential fetch-style reads of a 1 M-record log from the page cache: Read() from the last
// offset up to the LEO with max_bytes = arg (fetch.max.bytes / partition max bytes). Only the
// reads are timed.
void BM_LogRead(benchmark::State& state) {
  const BatchPtr batch = MakeBatch();
  const int32_t max_bytes = static_cast<int32_t>(state.range(0));
  int64_t reads = 0;
  for (auto _ : state) {
    state.PauseTiming();
    WithDisk([&](Disk& disk) {
      auto log = PartitionLog::Open(disk, "data/t-0", LogConfig{});
      KSIM_CHECK(log.ok());
      for (int i = 0; i < kBatchesPerIteration; ++i) {
        KSIM_CHECK((*log)->AppendAsLeader(batch, 0, 1000).ok());
      }
      const int64_t leo = (*log)->log_end_offset();
      state.ResumeTiming();
      int64_t offset = 0, records = 0;
      while (offset < leo) {
        auto r = (*log)->Read(offset, max_bytes, leo, true);
        KSIM_CHECK(r.ok() && !r->empty());
        ++reads;
        for (const BatchPtr& b : *r) records += b->record_count();
        offset = r->back()->last_offset() + 1;
      }
      KSIM_CHECK(records == leo);
      state.PauseTiming();
    });
    state.ResumeTiming();
  }
  const int64_t records = state.iterations() * kBatchesPerIteration * kRecordsPerBatch;
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * kValueBytes);
  state.counters["reads_per_second"] =
      benchmark::Counter(static_cast<double>(reads), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LogRead)
    ->Arg(1 << 20)  // replica.fetch.max.bytes / max.partition.fetch.bytes default: 1 MiB
    ->Arg(16384)    // one batch per read
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksim

BENCHMARK_MAIN();
