#include "sim/disk/disk.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

DiskProfile DiskProfile::Commodity2014() { return DiskProfile{}; }

DiskProfile DiskProfile::Nvme() {
  DiskProfile p;
  p.read_bytes_per_second = 3'000'000'000;
  p.write_bytes_per_second = 2'500'000'000;
  p.read_latency_ns = 100 * kMicrosecond;
  p.write_latency_ns = 30 * kMicrosecond;
  p.fsync_latency_ns = 50 * kMicrosecond;
  p.memory_bytes_per_second = 20'000'000'000;
  p.page_cache_bytes = 64LL << 30;
  return p;
}

int64_t DiskProfile::DirtyLimitBytes() const {
  const int64_t limit = dirty_limit_bytes > 0
                            ? dirty_limit_bytes
                            : static_cast<int64_t>(dirty_ratio * static_cast<double>(page_cache_bytes));
  return std::max(limit, kMinDirtyLimitBytes);
}

int64_t DiskProfile::DirtyBackgroundBytes() const {
  // As the kernel's domain_dirty_limits(): a background threshold at or above the dirty limit
  // is replaced by half the limit.
  const int64_t limit = DirtyLimitBytes();
  return dirty_background_bytes >= limit ? limit / 2 : dirty_background_bytes;
}

Disk::Disk(Kernel& kernel, NodeId node, DiskProfile profile)
    : kernel_(kernel),
      node_(node),
      p_(profile),
      dirty_limit_bytes_(p_.DirtyLimitBytes()),
      dirty_background_bytes_(p_.DirtyBackgroundBytes()) {
  KSIM_CHECK(p_.read_bytes_per_second > 0 && p_.write_bytes_per_second > 0);
  KSIM_CHECK(p_.memory_bytes_per_second > 0);
  KSIM_CHECK(p_.dirty_ratio >= 0 && p_.dirty_limit_bytes >= 0 && p_.dirty_background_bytes >= 0);
}

DurationNs Disk::DeviceTime(int64_t bytes, int64_t bytes_per_second, DurationNs latency) const {
  const double t = static_cast<double>(latency) +
                   static_cast<double>(bytes) * 1e9 / static_cast<double>(bytes_per_second);
  return static_cast<DurationNs>(t * slowdown_);
}

TimeNs Disk::UseDevice(DurationNs busy) {
  const TimeNs start = std::max(kernel_.Now(), device_free_);
  device_free_ = start + busy;
  stats_.device_busy_ns += busy;
  return device_free_;
}

void Disk::SetSlowdown(double factor) {
  KSIM_CHECK(factor > 0);
  slowdown_ = factor;
}

void Disk::Cache(Entry& e) {
  if (e.cached) return;
  e.cached = true;
  cached_bytes_ += e.chunk.size_bytes;
}

void Disk::NoteCached(std::string_view path, int64_t offset) {
  cache_order_.emplace_back(std::string(path), offset);
  if (cache_order_.size() >= compact_cache_order_at_) CompactCacheOrder();
}

void Disk::CompactCacheOrder() {
  // Drops what eviction would skip or find already evicted: chunks no longer cached (evicted,
  // truncated, files deleted) and later entries of a chunk listed earlier (a checkpoint file
  // rewritten in place, a chunk read back after its eviction). Without this the list grows
  // with every append and rewrite while the cache never fills.
  std::set<std::pair<std::string, int64_t>> seen;
  std::deque<std::pair<std::string, int64_t>> kept;
  for (auto& [path, offset] : cache_order_) {
    auto f = files_.find(path);
    if (f == files_.end()) continue;
    const std::vector<Entry>& entries = f->second.entries;
    auto e = std::lower_bound(entries.begin(), entries.end(), offset,
                              [](const Entry& x, int64_t o) { return x.offset < o; });
    if (e == entries.end() || e->offset != offset || !e->cached) continue;
    if (!seen.emplace(path, offset).second) continue;
    kept.emplace_back(std::move(path), offset);
  }
  cache_order_.swap(kept);
  compact_cache_order_at_ = std::max<size_t>(kMinCompactAt, 2 * cache_order_.size());
}

void Disk::EvictIfNeeded() {
  // Clean chunks go first, oldest first; dirty ones wait for write-back.
  size_t scanned = 0;
  while (cached_bytes_ > p_.page_cache_bytes && scanned < cache_order_.size()) {
    auto [path, offset] = cache_order_.front();
    cache_order_.pop_front();
    auto f = files_.find(path);
    if (f == files_.end()) continue;
    auto it = std::find_if(f->second.entries.begin(), f->second.entries.end(),
                           [&](const Entry& e) { return e.offset == offset; });
    if (it == f->second.entries.end() || !it->cached) continue;
    if (it->dirty_since >= 0) {
      cache_order_.emplace_back(path, offset);  // try again later
      ++scanned;
      continue;
    }
    it->cached = false;
    cached_bytes_ -= it->chunk.size_bytes;
  }
}

absl::Status Disk::Append(std::string_view path, Chunk chunk) {
  KSIM_CHECK(chunk.size_bytes >= 0);
  const DurationNs copy = static_cast<DurationNs>(static_cast<double>(chunk.size_bytes) * 1e9 /
                                                  static_cast<double>(p_.memory_bytes_per_second));
  if (copy > 0) SleepUntil(kernel_.Now() + copy);
  File& f = files_[std::string(path)];
  Entry e;
  e.offset = f.size;
  e.chunk = std::move(chunk);
  e.dirty_since = kernel_.Now();
  f.size += e.chunk.size_bytes;
  Cache(e);
  dirty_bytes_ += e.chunk.size_bytes;
  stats_.bytes_appended += e.chunk.size_bytes;
  const int64_t offset = e.offset;
  f.entries.push_back(std::move(e));
  NoteCached(path, offset);
  EvictIfNeeded();
  ScheduleFlush();
  if (dirty_bytes_ > dirty_background_bytes_) BackgroundFlush();
  ThrottleDirty();
  return absl::OkStatus();
}

void Disk::ThrottleDirty() {
  if (dirty_bytes_ <= dirty_limit_bytes_) return;
  // balance_dirty_pages(): the writer sleeps until write-back has brought the dirty bytes
  // under the limit. Writers are woken in the order they blocked.
  const TimeNs since = kernel_.Now();
  ++stats_.dirty_throttled_appends;
  while (dirty_bytes_ > dirty_limit_bytes_) {
    BackgroundFlush();
    dirty_waiters_.Wait(kForever);
  }
  stats_.dirty_throttled_ns += kernel_.Now() - since;
}

void Disk::DirtyDropped() {
  KSIM_CHECK(dirty_bytes_ >= 0);
  if (dirty_bytes_ <= dirty_limit_bytes_) dirty_waiters_.NotifyAll();
}

absl::StatusOr<std::vector<Chunk>> Disk::Read(std::string_view path, int64_t offset,
                                              int64_t length) {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(std::string(path), ": no such file"));
  File& f = it->second;
  std::vector<Chunk> out;
  int64_t hit = 0, miss = 0;
  // Entries are sorted by offset: binary search for the first overlapping one.
  auto e = std::upper_bound(f.entries.begin(), f.entries.end(), offset,
                            [](int64_t o, const Entry& x) { return o < x.offset; });
  if (e != f.entries.begin()) --e;
  for (; e != f.entries.end() && e->offset < offset + length; ++e) {
    if (e->offset + e->chunk.size_bytes <= offset) continue;
    out.push_back(e->chunk);
    if (e->cached) {
      hit += e->chunk.size_bytes;
    } else {
      miss += e->chunk.size_bytes;
      Cache(*e);
      NoteCached(path, e->offset);
    }
  }
  stats_.bytes_read_from_cache += hit;
  stats_.bytes_read_from_device += miss;
  TimeNs done = kernel_.Now() + static_cast<DurationNs>(static_cast<double>(hit) * 1e9 /
                                                         static_cast<double>(p_.memory_bytes_per_second));
  if (miss > 0) {
    done = std::max(done, UseDevice(DeviceTime(miss, p_.read_bytes_per_second, p_.read_latency_ns)));
    EvictIfNeeded();
  }
  if (done > kernel_.Now()) SleepUntil(done);
  return out;
}

absl::StatusOr<std::vector<Chunk>> Disk::ReadAll(std::string_view path) {
  auto size = Size(path);
  if (!size.ok()) return size.status();
  return Read(path, 0, std::max<int64_t>(*size, 1));
}

absl::Status Disk::Fsync(std::string_view path) {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(std::string(path), ": no such file"));
  const int64_t target = it->second.size;
  // What a write-back already has on its way to the device is not written twice: the fsync
  // queues behind it on the device.
  const int64_t bytes = target - std::max(it->second.durable, it->second.issued);
  it->second.issued = target;
  const uint64_t epoch = it->second.epoch;
  ++stats_.fsyncs;
  const TimeNs done = UseDevice(
      DeviceTime(bytes, p_.write_bytes_per_second, bytes > 0 ? p_.write_latency_ns : 0) +
      static_cast<DurationNs>(static_cast<double>(p_.fsync_latency_ns) * slowdown_));
  stats_.bytes_written_to_device += bytes;
  SleepUntil(done);
  MarkDurable(std::string(path), epoch, target);
  return absl::OkStatus();
}

void Disk::MarkDurable(const std::string& path, uint64_t epoch, int64_t up_to) {
  auto it = files_.find(path);
  if (it == files_.end() || it->second.epoch != epoch) return;
  File& f = it->second;
  up_to = std::min(up_to, f.size);
  if (up_to <= f.durable) return;
  // Entries that end at or below `durable` are clean already.
  for (auto e = FirstEndingAfter(f, f.durable);
       e != f.entries.end() && e->offset + e->chunk.size_bytes <= up_to; ++e) {
    if (e->dirty_since >= 0) {
      e->dirty_since = -1;
      dirty_bytes_ -= e->chunk.size_bytes;
    }
  }
  f.durable = up_to;
  f.issued = std::max(f.issued, up_to);
  KSIM_CHECK(f.durable <= f.size && f.issued <= f.size && dirty_bytes_ >= 0);
  DirtyDropped();
}

std::vector<Disk::Entry>::iterator Disk::FirstEndingAfter(File& f, int64_t pos) {
  auto e = std::upper_bound(f.entries.begin(), f.entries.end(), pos,
                            [](int64_t o, const Entry& x) { return o < x.offset; });
  if (e != f.entries.begin() && std::prev(e)->offset + std::prev(e)->chunk.size_bytes > pos) --e;
  return e;
}

void Disk::ScheduleFlush() {
  if (flush_scheduled_ || dirty_bytes_ == 0) return;
  flush_scheduled_ = true;
  kernel_.After(p_.flush_interval_ns, [this] {
    flush_scheduled_ = false;
    Flush();
    ScheduleFlush();
  });
}

void Disk::Flush() {
  // The periodic flusher: data older than the dirty expiry (or everything above the
  // background threshold).
  if (dirty_bytes_ > dirty_background_bytes_) {
    BackgroundFlush();
  } else {
    WriteBack(/*all=*/false);
  }
}

void Disk::BackgroundFlush() {
  // One batch at a time, as the kernel's flusher works: the next batch (what was dirtied
  // meanwhile) is issued when this one completes, if still above the threshold.
  if (background_flush_) return;
  const TimeNs done = WriteBack(/*all=*/true);
  if (done < 0) return;
  background_flush_ = true;
  kernel_.At(done, [this] {  // after the batch's own completions, scheduled before
    background_flush_ = false;
    if (dirty_bytes_ > dirty_background_bytes_) BackgroundFlush();
  });
}

TimeNs Disk::WriteBack(bool all) {
  const TimeNs now = kernel_.Now();
  TimeNs last_done = -1;
  for (auto& [path, f] : files_) {
    const int64_t from = std::max(f.durable, f.issued);
    if (from >= f.size) continue;
    int64_t target = from;
    for (auto e = FirstEndingAfter(f, from); e != f.entries.end(); ++e) {
      if (!all && now - e->dirty_since < p_.dirty_expire_ns) break;
      target = e->offset + e->chunk.size_bytes;
    }
    if (target <= from) continue;
    const int64_t bytes = target - from;
    const TimeNs done = UseDevice(DeviceTime(bytes, p_.write_bytes_per_second, p_.write_latency_ns));
    stats_.bytes_written_to_device += bytes;
    f.issued = target;
    const uint64_t epoch = f.epoch;
    const uint64_t power = power_epoch_;
    kernel_.At(done, [this, path = path, epoch, target, power] {
      if (power == power_epoch_) MarkDurable(path, epoch, target);
    });
    last_done = std::max(last_done, done);
  }
  return last_done;
}

absl::Status Disk::Truncate(std::string_view path, int64_t size_bytes) {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(std::string(path), ": no such file"));
  File& f = it->second;
  if (size_bytes > f.size || size_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat("truncate ", std::string(path), " to ", size_bytes,
                                                   ": beyond its size ", f.size));
  }
  auto cut = std::find_if(f.entries.begin(), f.entries.end(),
                          [&](const Entry& e) { return e.offset >= size_bytes; });
  if (cut != f.entries.end() && cut->offset != size_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncate ", std::string(path), " to ", size_bytes, ": not a chunk boundary"));
  }
  if (cut == f.entries.end() && size_bytes != f.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncate ", std::string(path), " to ", size_bytes, ": not a chunk boundary"));
  }
  for (auto e = cut; e != f.entries.end(); ++e) {
    if (e->dirty_since >= 0) dirty_bytes_ -= e->chunk.size_bytes;
    if (e->cached) cached_bytes_ -= e->chunk.size_bytes;
  }
  f.entries.erase(cut, f.entries.end());
  f.size = size_bytes;
  f.durable = std::min(f.durable, size_bytes);
  f.issued = f.durable;  // write-backs in flight are cancelled (epoch)
  ++f.epoch;
  DirtyDropped();
  return absl::OkStatus();
}

absl::Status Disk::WriteAtomically(std::string_view path, Chunk chunk) {
  const int64_t bytes = chunk.size_bytes;
  ++stats_.fsyncs;
  stats_.bytes_written_to_device += bytes;
  SleepUntil(UseDevice(DeviceTime(bytes, p_.write_bytes_per_second, p_.write_latency_ns) +
                       static_cast<DurationNs>(static_cast<double>(p_.fsync_latency_ns) * slowdown_)));
  (void)Delete(path);
  File& f = files_[std::string(path)];
  Entry e;
  e.chunk = std::move(chunk);
  f.size = bytes;
  f.durable = bytes;
  f.issued = bytes;
  Cache(e);
  f.entries.push_back(std::move(e));
  NoteCached(path, 0);
  return absl::OkStatus();
}

absl::Status Disk::Delete(std::string_view path) {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(std::string(path), ": no such file"));
  for (const Entry& e : it->second.entries) {
    if (e.dirty_since >= 0) dirty_bytes_ -= e.chunk.size_bytes;
    if (e.cached) cached_bytes_ -= e.chunk.size_bytes;
  }
  files_.erase(it);
  DirtyDropped();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Disk::Size(std::string_view path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(std::string(path), ": no such file"));
  return it->second.size;
}

bool Disk::Exists(std::string_view path) const { return files_.find(path) != files_.end(); }

int64_t Disk::DurableSize(std::string_view path) const {
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second.durable;
}

std::vector<std::string> Disk::List(std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it->first);
  }
  return out;
}

void Disk::PowerLoss() {
  Rng rng = kernel_.Stream(absl::StrCat("disk/", kernel_.NodeName(node_), "/", power_epoch_));
  ++power_epoch_;
  for (auto& [path, f] : files_) {
    auto cut = std::find_if(f.entries.begin(), f.entries.end(), [&](const Entry& e) {
      return e.offset + e.chunk.size_bytes > f.durable;
    });
    std::optional<Entry> torn;
    if (cut != f.entries.end() && p_.tear_on_power_loss && cut->chunk.size_bytes > 1 &&
        rng.Bernoulli(0.5)) {
      // The write in progress reached the platter only in part.
      torn = *cut;
      torn->chunk.size_bytes = rng.Range(1, cut->chunk.size_bytes - 1);
      torn->chunk.torn = true;
      torn->dirty_since = -1;
      torn->cached = false;
    }
    f.entries.erase(cut, f.entries.end());
    f.size = f.durable;
    if (torn) {
      f.size += torn->chunk.size_bytes;
      f.durable = f.size;
      f.entries.push_back(*torn);
    }
    for (Entry& e : f.entries) e.cached = false;
    f.issued = f.durable;
    ++f.epoch;
  }
  dirty_bytes_ = 0;
  cached_bytes_ = 0;
  cache_order_.clear();
  DirtyDropped();
  kernel_.Trace(node_, "power-loss", kernel_.NodeName(node_));
}

}  // namespace ksim
