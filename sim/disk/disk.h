// A node's disk behind an OS page cache: the FileSystem engine code writes its logs and
// checkpoints to.
//
// Files are sequences of chunks. Appends land in the page cache at memory speed and are dirty
// until written back: by fsync, or by the background flusher (every flush interval, data older
// than the dirty expiry; and, while more than the background threshold is dirty, everything,
// batch after batch), each using the device's bandwidth and latency, one request at a time.
// As Linux's balance_dirty_pages does, an append that leaves more than the dirty limit
// (vm.dirty_ratio of the page cache) dirty blocks its writer until write-back brings the dirty
// bytes under the limit, so a disk slower than its writers throttles them. Reads hit the page cache at memory
// speed or go to the device. A process crash keeps the page cache (nothing is lost); a power
// loss cuts every file back to what reached the device, optionally leaving a torn prefix of
// the first unsynced chunk, and empties the cache. Clean cached chunks are evicted oldest
// first when the cache is full; dirty ones stay until written back.
#ifndef KSIM_SIM_DISK_DISK_H_
#define KSIM_SIM_DISK_DISK_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"
#include "sim/kernel/kernel.h"

namespace ksim {

struct DiskProfile {
  int64_t read_bytes_per_second = 150'000'000;
  int64_t write_bytes_per_second = 150'000'000;
  DurationNs read_latency_ns = 8 * kMillisecond;
  DurationNs write_latency_ns = 8 * kMillisecond;
  DurationNs fsync_latency_ns = 8 * kMillisecond;
  int64_t memory_bytes_per_second = 10'000'000'000;
  int64_t page_cache_bytes = 32LL << 30;
  DurationNs dirty_expire_ns = 30 * kSecond;   // vm.dirty_expire_centisecs = 3000
  DurationNs flush_interval_ns = 5 * kSecond;  // vm.dirty_writeback_centisecs = 500
  // Above this many dirty bytes the flusher writes everything back (vm.dirty_background_bytes;
  // halved if not below the dirty limit, as the kernel does).
  int64_t dirty_background_bytes = 1LL << 30;
  // Writers block while more than this share of the page cache is dirty (vm.dirty_ratio,
  // default 20), or more than dirty_limit_bytes if that is set (vm.dirty_bytes).
  double dirty_ratio = 0.20;
  int64_t dirty_limit_bytes = 0;
  // The smallest limit the kernel accepts for vm.dirty_bytes: two pages.
  static constexpr int64_t kMinDirtyLimitBytes = 2 * 4096;
  bool tear_on_power_loss = true;

  // A 7,200 rpm SATA disk server (~150 MB/s sequential, ~8 ms access).
  static DiskProfile Commodity2014();
  // Local NVMe SSD (~2.5-3 GB/s, ~100 us read, ~30 us write latency).
  static DiskProfile Nvme();

  int64_t DirtyLimitBytes() const;
  int64_t DirtyBackgroundBytes() const;
};

struct DiskStats {
  int64_t bytes_appended = 0;
  int64_t bytes_written_to_device = 0;
  int64_t bytes_read_from_cache = 0;
  int64_t bytes_read_from_device = 0;
  int64_t fsyncs = 0;
  DurationNs device_busy_ns = 0;
  int64_t dirty_throttled_appends = 0;  // appends that blocked on the dirty limit
  DurationNs dirty_throttled_ns = 0;    // total time they were blocked
};

class Disk final : public FileSystem {
 public:
  Disk(Kernel& kernel, NodeId node, DiskProfile profile);

  absl::Status Append(std::string_view path, Chunk chunk) override;
  absl::StatusOr<std::vector<Chunk>> Read(std::string_view path, int64_t offset,
                                          int64_t length) override;
  absl::StatusOr<std::vector<Chunk>> ReadAll(std::string_view path) override;
  absl::Status Fsync(std::string_view path) override;
  absl::Status Truncate(std::string_view path, int64_t size_bytes) override;
  absl::Status WriteAtomically(std::string_view path, Chunk chunk) override;
  absl::Status Delete(std::string_view path) override;
  absl::StatusOr<int64_t> Size(std::string_view path) const override;
  bool Exists(std::string_view path) const override;
  std::vector<std::string> List(std::string_view prefix) const override;

  // Crash semantics.
  void ProcessCrash() {}
  void PowerLoss();
  // Device slowdown factor (slow-disk fault): latencies and transfer times are multiplied.
  void SetSlowdown(double factor);

  const DiskStats& stats() const { return stats_; }
  int64_t dirty_bytes() const { return dirty_bytes_; }
  int64_t cached_bytes() const { return cached_bytes_; }
  // Entries of the eviction-order list (bounded by about twice the cached chunks).
  size_t cache_list_entries() const { return cache_order_.size(); }
  int64_t DurableSize(std::string_view path) const;

 private:
  struct Entry {
    int64_t offset = 0;
    Chunk chunk;
    TimeNs dirty_since = -1;  // -1: on the device
    bool cached = false;
  };
  struct File {
    std::vector<Entry> entries;
    int64_t size = 0;
    int64_t durable = 0;  // bytes [0, durable) are on the device
    int64_t issued = 0;   // bytes [0, issued) are on the device or being written back
    uint64_t epoch = 0;   // bumped when the file is cut back, to cancel write-backs
  };

  DurationNs DeviceTime(int64_t bytes, int64_t bytes_per_second, DurationNs latency) const;
  // Reserves the device for `busy` and returns when it finishes.
  TimeNs UseDevice(DurationNs busy);
  void MarkDurable(const std::string& path, uint64_t epoch, int64_t up_to);
  void ScheduleFlush();
  void Flush();
  // Issues, per file, the write-back of the dirty data not yet on its way to the device (all
  // of it, or what is older than the dirty expiry). Returns when the last request completes,
  // -1 if none was issued.
  TimeNs WriteBack(bool all);
  // The first entry of `f` that ends after byte `pos`.
  static std::vector<Entry>::iterator FirstEndingAfter(File& f, int64_t pos);
  // Write-back of everything dirty, repeated while more than the background threshold is.
  void BackgroundFlush();
  // Blocks the calling fiber while more than the dirty limit is dirty.
  void ThrottleDirty();
  // Dirty bytes went down: wakes throttled writers if they are under the limit.
  void DirtyDropped();
  void Cache(Entry& e);
  // Lists a chunk that just entered the cache (eviction order); compacts the list when it
  // has doubled since the last compaction.
  void NoteCached(std::string_view path, int64_t offset);
  void CompactCacheOrder();
  void EvictIfNeeded();

  Kernel& kernel_;
  NodeId node_;
  DiskProfile p_;
  int64_t dirty_limit_bytes_;       // p_.DirtyLimitBytes()
  int64_t dirty_background_bytes_;  // p_.DirtyBackgroundBytes()
  double slowdown_ = 1.0;
  std::map<std::string, File, std::less<>> files_;
  TimeNs device_free_ = 0;
  int64_t dirty_bytes_ = 0;
  int64_t cached_bytes_ = 0;
  std::deque<std::pair<std::string, int64_t>> cache_order_;  // (path, offset), oldest first
  static constexpr size_t kMinCompactAt = 4096;
  size_t compact_cache_order_at_ = kMinCompactAt;
  bool flush_scheduled_ = false;
  bool background_flush_ = false;  // a background write-back batch is on the device
  WaitList dirty_waiters_;         // writers blocked on the dirty limit
  uint64_t power_epoch_ = 0;
  DiskStats stats_;
};

}  // namespace ksim

#endif  // KSIM_SIM_DISK_DISK_H_
