#include "engine/broker/broker_config.h"

#include "absl/strings/numbers.h"

namespace ksim {

BrokerSettings BrokerSettings::FromConfig(BrokerId id, const Config& c) {
  BrokerSettings s;
  s.broker_id = id;
  s.rack = c.GetString("broker.rack");
  s.min_insync_replicas = c.GetInt("min.insync.replicas");
  s.unclean_leader_election = c.GetBool("unclean.leader.election.enable");
  s.replica_lag_time_max_ns = c.GetLong("replica.lag.time.max.ms") * kMillisecond;
  s.replica_fetch_wait_max_ms = c.GetInt("replica.fetch.wait.max.ms");
  s.replica_fetch_min_bytes = c.GetInt("replica.fetch.min.bytes");
  s.replica_fetch_max_bytes = c.GetInt("replica.fetch.max.bytes");
  s.num_replica_fetchers = c.GetInt("num.replica.fetchers");
  s.replica_fetch_response_max_bytes = c.GetInt("replica.fetch.response.max.bytes");
  s.replica_fetch_backoff_ns = c.GetInt("replica.fetch.backoff.ms") * kMillisecond;
  s.hw_checkpoint_interval_ns =
      c.GetLong("replica.high.watermark.checkpoint.interval.ms") * kMillisecond;
  s.recovery_point_checkpoint_interval_ns =
      std::max<int64_t>(1, c.GetInt("log.flush.offset.checkpoint.interval.ms")) * kMillisecond;
  s.retention_check_interval_ns = c.GetLong("log.retention.check.interval.ms") * kMillisecond;
  s.session_timeout_ns = c.GetInt("zookeeper.session.timeout.ms") * kMillisecond;
  s.num_partitions = c.GetInt("num.partitions");
  s.default_replication_factor = c.GetInt("default.replication.factor");
  s.auto_create_topics = c.GetBool("auto.create.topics.enable");
  s.offsets_topic_num_partitions = c.GetInt("offsets.topic.num.partitions");
  s.offsets_topic_replication_factor = c.GetInt("offsets.topic.replication.factor");
  s.num_io_threads = c.GetInt("num.io.threads");
  s.num_network_threads = c.GetInt("num.network.threads");
  s.message_max_bytes = c.GetInt("message.max.bytes");
  s.compression_type = c.GetString("compression.type");
  s.truncation = c.GetString("ksim.truncation.rule") == "high-watermark"
                     ? TruncationRule::kHighWatermark
                     : TruncationRule::kLeaderEpoch;
  s.segment_bytes = c.GetInt("log.segment.bytes");
  int64_t retention_ms = c.GetLong("log.retention.ms");
  s.retention_ms = retention_ms != -1 || c.IsSet("log.retention.ms")
                       ? retention_ms
                       : c.GetLong("log.retention.hours") * 3600 * 1000;
  s.retention_bytes = c.GetLong("log.retention.bytes");
  s.flush_interval_messages = c.GetLong("log.flush.interval.messages");
  int64_t flush_ms = c.GetLong("log.flush.interval.ms");
  s.flush_interval_ms = flush_ms < 0 ? INT64_MAX : flush_ms;
  s.cleanup_policy = c.GetString("log.cleanup.policy");
  s.cleaner_enable = c.GetBool("log.cleaner.enable");
  s.cleaner_threads = c.GetInt("log.cleaner.threads");
  s.cleaner_backoff_ns = c.GetLong("log.cleaner.backoff.ms") * kMillisecond;
  s.min_cleanable_ratio = c.GetDouble("log.cleaner.min.cleanable.ratio");
  s.delete_retention_ms = c.GetLong("log.cleaner.delete.retention.ms");
  s.min_compaction_lag_ms = c.GetLong("log.cleaner.min.compaction.lag.ms");
  s.max_compaction_lag_ms = c.GetLong("log.cleaner.max.compaction.lag.ms");
  s.raw = c;
  return s;
}

TopicSettings TopicSettings::Resolve(const BrokerSettings& b,
                                     const std::map<std::string, std::string>& o) {
  TopicSettings t;
  t.min_insync_replicas = b.min_insync_replicas;
  t.unclean_leader_election = b.unclean_leader_election;
  t.segment_bytes = b.segment_bytes;
  t.retention_ms = b.retention_ms;
  t.retention_bytes = b.retention_bytes;
  t.flush_interval_messages = b.flush_interval_messages;
  t.flush_interval_ms = b.flush_interval_ms;
  t.cleanup_policy = b.cleanup_policy;
  t.compression_type = b.compression_type;
  t.max_message_bytes = b.message_max_bytes;
  t.min_cleanable_dirty_ratio = b.min_cleanable_ratio;
  t.delete_retention_ms = b.delete_retention_ms;
  t.min_compaction_lag_ms = b.min_compaction_lag_ms;
  t.max_compaction_lag_ms = b.max_compaction_lag_ms;
  Config c(TopicConfigDef(), o);
  if (c.IsSet("min.insync.replicas")) t.min_insync_replicas = c.GetInt("min.insync.replicas");
  if (c.IsSet("unclean.leader.election.enable")) {
    t.unclean_leader_election = c.GetBool("unclean.leader.election.enable");
  }
  if (c.IsSet("segment.bytes")) t.segment_bytes = c.GetInt("segment.bytes");
  if (c.IsSet("retention.ms")) t.retention_ms = c.GetLong("retention.ms");
  if (c.IsSet("retention.bytes")) t.retention_bytes = c.GetLong("retention.bytes");
  if (c.IsSet("flush.messages")) t.flush_interval_messages = c.GetLong("flush.messages");
  if (c.IsSet("flush.ms")) t.flush_interval_ms = c.GetLong("flush.ms");
  if (c.IsSet("cleanup.policy")) t.cleanup_policy = c.GetString("cleanup.policy");
  if (c.IsSet("compression.type")) t.compression_type = c.GetString("compression.type");
  if (c.IsSet("max.message.bytes")) t.max_message_bytes = c.GetInt("max.message.bytes");
  if (c.IsSet("min.cleanable.dirty.ratio")) {
    t.min_cleanable_dirty_ratio = c.GetDouble("min.cleanable.dirty.ratio");
  }
  if (c.IsSet("delete.retention.ms")) t.delete_retention_ms = c.GetLong("delete.retention.ms");
  if (c.IsSet("min.compaction.lag.ms")) {
    t.min_compaction_lag_ms = c.GetLong("min.compaction.lag.ms");
  }
  if (c.IsSet("max.compaction.lag.ms")) {
    t.max_compaction_lag_ms = c.GetLong("max.compaction.lag.ms");
  }
  return t;
}

LogConfig ToLogConfig(const TopicSettings& t) {
  LogConfig c;
  c.segment_bytes = t.segment_bytes;
  c.retention_ms = t.retention_ms;
  c.retention_bytes = t.retention_bytes;
  c.flush_interval_messages = t.flush_interval_messages;
  c.flush_interval_ms = t.flush_interval_ms;
  c.compact = t.cleanup_policy.find("compact") != std::string::npos;
  c.delete_retention = t.cleanup_policy.find("delete") != std::string::npos;
  c.min_cleanable_dirty_ratio = t.min_cleanable_dirty_ratio;
  c.delete_retention_ms = t.delete_retention_ms;
  c.min_compaction_lag_ms = t.min_compaction_lag_ms;
  c.max_compaction_lag_ms = t.max_compaction_lag_ms;
  return c;
}

}  // namespace ksim
