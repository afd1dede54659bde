#include "engine/broker/log_cleaner_thread.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ksim {

LogCleanerThreads::LogCleanerThreads(Runtime& rt, const BrokerSettings& settings,
                                     PartitionsFn partitions)
    : rt_(rt), settings_(settings), partitions_(std::move(partitions)) {}

void LogCleanerThreads::Start(const std::shared_ptr<LogCleanerThreads>& self) {
  if (!self->settings_.cleaner_enable) return;
  for (int32_t i = 0; i < self->settings_.cleaner_threads; ++i) {
    self->rt_.Spawn(absl::StrCat("log-cleaner-", i), [self] { self->Run(); });
  }
}

void LogCleanerThreads::Run() {
  for (;;) {
    if (!CleanFilthiestLog()) {
      rt_.Sleep(std::max<DurationNs>(settings_.cleaner_backoff_ns, kMillisecond));
    }
  }
}

bool LogCleanerThreads::CleanFilthiestLog() {
  const int64_t now_ms = rt_.Now() / kMillisecond;
  Partition* filthiest = nullptr;
  double best = -1;
  for (const auto& [tp, p] : partitions_()) {
    const LogConfig config = ToLogConfig(p->settings());
    if (!config.compact || p->log().cleaning()) continue;
    const CleanableLog c = p->log().Cleanable(config, now_ms);
    if (!c.NeedsCleaning(config.min_cleanable_dirty_ratio)) continue;
    if (c.dirty_ratio() > best) {
      best = c.dirty_ratio();
      filthiest = p.get();
    }
  }
  if (filthiest == nullptr) return false;
  const TopicPartition tp = filthiest->tp();
  const LogConfig config = ToLogConfig(filthiest->settings());
  Runtime& rt = rt_;
  // The partition may be deleted while the cleaner blocks: only `stats` is used afterwards.
  const CleanStats stats = filthiest->log().Clean(
      config, now_ms, [&rt](int64_t map_bytes, int64_t copy_bytes) {
        const double ns = static_cast<double>(map_bytes) * kCleanerMapNsPerByte +
                          static_cast<double>(copy_bytes) * kCleanerCopyNsPerByte;
        if (ns >= 1) rt.Compute(static_cast<DurationNs>(ns));
      });
  rt_.Trace("log-cleaned",
            absl::StrFormat("%s ratio=%.2f cleaned=%d segments %d->%d bytes %d->%d removed=%d "
                            "tombstones=%d first_dirty=%d",
                            tp.ToString(), best, stats.cleaned ? 1 : 0, stats.segments_in,
                            stats.segments_out, stats.bytes_read, stats.bytes_written,
                            stats.records_removed, stats.tombstones_removed, stats.end_offset));
  return stats.cleaned;
}

}  // namespace ksim
