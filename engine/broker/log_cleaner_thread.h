// The broker's log cleaner threads (Kafka's LogCleaner / CleanerThread / LogCleanerManager):
// log.cleaner.threads fibers; each pass picks the compacted log (cleanup.policy containing
// "compact") with the highest dirty ratio above its min.cleanable.dirty.ratio, or whose
// max.compaction.lag.ms passed, cleans it (PartitionLog::Clean), and sleeps
// log.cleaner.backoff.ms when no log needed cleaning. The cleaner's CPU is charged on the
// broker's cores through Runtime::Compute; its I/O goes through the FileSystem.
#ifndef KSIM_ENGINE_BROKER_LOG_CLEANER_THREAD_H_
#define KSIM_ENGINE_BROKER_LOG_CLEANER_THREAD_H_

#include <functional>
#include <map>
#include <memory>

#include "engine/broker/broker_config.h"
#include "engine/broker/partition.h"
#include "engine/runtime/runtime.h"

namespace ksim {

// CPU per byte of the cleaner's two passes (docs/COST_MODEL.md): building the offset map
// hashes every key (Kafka's SkimpyOffsetMap uses MD5) while iterating records; the rewrite
// iterates again, copies the surviving records and computes the new batches' CRC32C.
inline constexpr double kCleanerMapNsPerByte = 2.0;
inline constexpr double kCleanerCopyNsPerByte = 1.0;

using PartitionsFn = std::function<const std::map<TopicPartition, std::unique_ptr<Partition>>&()>;

class LogCleanerThreads {
 public:
  LogCleanerThreads(Runtime& rt, const BrokerSettings& settings, PartitionsFn partitions);
  // Spawns log.cleaner.threads fibers (nothing if log.cleaner.enable is false); they share
  // `self`, which lives as long as they do.
  static void Start(const std::shared_ptr<LogCleanerThreads>& self);
  // One pass of one thread: cleans the filthiest log; false if none needed cleaning.
  bool CleanFilthiestLog();

 private:
  void Run();

  Runtime& rt_;
  const BrokerSettings& settings_;
  PartitionsFn partitions_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_LOG_CLEANER_THREAD_H_
