// Typed broker settings read from Kafka's broker config keys (engine/config), and the
// per-topic overrides that apply to one partition.
#ifndef KSIM_ENGINE_BROKER_BROKER_CONFIG_H_
#define KSIM_ENGINE_BROKER_BROKER_CONFIG_H_

#include <map>
#include <string>

#include "engine/config/config_def.h"
#include "engine/log/log.h"
#include "engine/protocol/api.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

// How a replica that becomes a follower truncates its log.
enum class TruncationRule {
  kLeaderEpoch,    // KIP-101/KIP-279: ask the leader where our latest epoch ends
  kHighWatermark,  // pre-0.11 Kafka: cut back to our own high watermark (loses data, diverges)
};

// CPU a broker spends per request, on its thread pools (docs/COST_MODEL.md, "Broker CPU").
// A request is read by a network thread, handled by a request handler (I/O) thread, and its
// response written by a network thread; purgatory waits (acks=all, fetch.max.wait.ms) hold no
// thread, as in Kafka. The threads run on the machine's cores (Runtime::Compute).
struct BrokerCpuCost {
  DurationNs network_per_request_ns = 5 * kMicrosecond;  // read a request or write a response
  double network_ns_per_byte = 0.1;   // socket buffer copies (~10 GB/s memcpy)
  DurationNs io_per_request_ns = 20 * kMicrosecond;  // decode, locks, log append bookkeeping
  double produce_ns_per_byte = 0.5;   // CRC32C check + append copy (~2 GB/s)
  // Fetch data goes out with sendfile (zero-copy): no per-byte CPU on either thread.
};

struct BrokerSettings {
  BrokerId broker_id = 0;
  std::string rack;
  int32_t min_insync_replicas = 1;
  bool unclean_leader_election = false;
  DurationNs replica_lag_time_max_ns = 30 * kSecond;
  int32_t replica_fetch_wait_max_ms = 500;
  int32_t replica_fetch_min_bytes = 1;
  int32_t replica_fetch_max_bytes = 1048576;
  int32_t num_replica_fetchers = 1;  // fetchers per source broker
  int32_t replica_fetch_response_max_bytes = 10485760;
  DurationNs replica_fetch_backoff_ns = kSecond;
  DurationNs hw_checkpoint_interval_ns = 5 * kSecond;
  DurationNs recovery_point_checkpoint_interval_ns = 60 * kSecond;
  DurationNs retention_check_interval_ns = 300 * kSecond;  // log.retention.check.interval.ms
  DurationNs session_timeout_ns = 18 * kSecond;  // zookeeper.session.timeout.ms
  int32_t num_partitions = 1;
  int32_t default_replication_factor = 1;
  bool auto_create_topics = true;
  int32_t offsets_topic_num_partitions = 50;
  int32_t offsets_topic_replication_factor = 3;
  int32_t num_io_threads = 8;
  int32_t num_network_threads = 3;
  BrokerCpuCost cpu;
  int32_t message_max_bytes = 1048588;
  std::string compression_type = "producer";
  TruncationRule truncation = TruncationRule::kLeaderEpoch;
  // Log settings (log.*), overridable per topic.
  int64_t segment_bytes = 1073741824;
  int64_t retention_ms = 168LL * 3600 * 1000;
  int64_t retention_bytes = -1;
  int64_t flush_interval_messages = INT64_MAX;
  int64_t flush_interval_ms = INT64_MAX;
  std::string cleanup_policy = "delete";
  // The log cleaner (log.cleaner.*).
  bool cleaner_enable = true;
  int32_t cleaner_threads = 1;
  DurationNs cleaner_backoff_ns = 15 * kSecond;
  double min_cleanable_ratio = 0.5;
  int64_t delete_retention_ms = 86400000;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = INT64_MAX;
  Config raw{BrokerConfigDef(), {}};

  static BrokerSettings FromConfig(BrokerId id, const Config& c);
};

// Topic-level settings after applying a topic's overrides to the broker defaults.
struct TopicSettings {
  int32_t min_insync_replicas = 1;
  bool unclean_leader_election = false;
  int64_t segment_bytes = 1073741824;
  int64_t retention_ms = 168LL * 3600 * 1000;
  int64_t retention_bytes = -1;
  int64_t flush_interval_messages = INT64_MAX;
  int64_t flush_interval_ms = INT64_MAX;
  std::string cleanup_policy = "delete";
  std::string compression_type = "producer";
  int32_t max_message_bytes = 1048588;
  double min_cleanable_dirty_ratio = 0.5;
  int64_t delete_retention_ms = 86400000;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = INT64_MAX;

  static TopicSettings Resolve(const BrokerSettings& broker,
                               const std::map<std::string, std::string>& topic_overrides);
};

LogConfig ToLogConfig(const TopicSettings& t);

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_BROKER_CONFIG_H_
