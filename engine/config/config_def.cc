#include "engine/config/config_def.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

constexpr int64_t kIntMax = 2147483647;
constexpr int64_t kLongMax = INT64_MAX;
const char* kLongMaxStr = "9223372036854775807";

ConfigKey Bool(std::string name, bool def, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kBool, def ? "true" : "false", INT64_MIN,
                   INT64_MAX, {}, std::move(doc)};
}
ConfigKey Int(std::string name, int64_t def, int64_t min, int64_t max, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kInt, std::to_string(def), min, max, {},
                   std::move(doc)};
}
ConfigKey Long(std::string name, std::string def, int64_t min, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kLong, std::move(def), min, kLongMax, {},
                   std::move(doc)};
}
ConfigKey Str(std::string name, std::string def, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kString, std::move(def), INT64_MIN, INT64_MAX,
                   {}, std::move(doc)};
}
ConfigKey Enum(std::string name, std::string def, std::vector<std::string> allowed,
               std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kEnum, std::move(def), INT64_MIN, INT64_MAX,
                   std::move(allowed), std::move(doc)};
}
ConfigKey Dbl(std::string name, std::string def, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kDouble, std::move(def), INT64_MIN, INT64_MAX,
                   {}, std::move(doc)};
}
ConfigKey List(std::string name, std::string def, std::string doc) {
  return ConfigKey{std::move(name), ConfigType::kList, std::move(def), INT64_MIN, INT64_MAX,
                   {}, std::move(doc)};
}

const std::vector<std::string> kCompression = {"none", "gzip", "snappy", "lz4", "zstd"};

}  // namespace

ConfigDef& ConfigDef::Define(ConfigKey key) {
  KSIM_CHECK_MSG(keys_.count(key.name) == 0, "config key defined twice: " + key.name);
  std::string name = key.name;
  keys_.emplace(std::move(name), std::move(key));
  return *this;
}

const ConfigKey* ConfigDef::Find(const std::string& name) const {
  auto it = keys_.find(name);
  return it == keys_.end() ? nullptr : &it->second;
}

std::optional<std::string> ConfigDef::Suggest(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& [k, v] : keys_) names.push_back(k);
  return ClosestMatch(name, names);
}

absl::Status ConfigDef::Validate(const std::string& name, const std::string& value) const {
  const ConfigKey* key = Find(name);
  if (key == nullptr) {
    auto s = Suggest(name);
    return absl::InvalidArgumentError(absl::StrCat("unknown config '", name, "'",
                                                   s ? absl::StrCat("; did you mean '", *s, "'?")
                                                     : std::string()));
  }
  auto bad = [&](const std::string& expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value '", value, "' for config '", name, "': expected ", expected));
  };
  switch (key->type) {
    case ConfigType::kBool:
      if (value != "true" && value != "false") return bad("true or false");
      return absl::OkStatus();
    case ConfigType::kInt:
    case ConfigType::kLong: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      if (v < key->min || v > key->max) {
        return bad(absl::StrCat("an integer in [", key->min, ", ",
                                key->max == kLongMax ? kLongMaxStr : std::to_string(key->max),
                                "]"));
      }
      return absl::OkStatus();
    }
    case ConfigType::kDouble: {
      double v;
      if (!absl::SimpleAtod(value, &v)) return bad("a number");
      return absl::OkStatus();
    }
    case ConfigType::kEnum:
      if (std::find(key->allowed.begin(), key->allowed.end(), value) == key->allowed.end()) {
        auto s = ClosestMatch(value, key->allowed);
        return bad(absl::StrCat("one of ", absl::StrJoin(key->allowed, ", "),
                                s ? absl::StrCat(" (did you mean '", *s, "'?)") : ""));
      }
      return absl::OkStatus();
    case ConfigType::kString:
    case ConfigType::kList:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> Config::Make(const ConfigDef& def,
                                    std::map<std::string, std::string> values) {
  for (const auto& [k, v] : values) {
    if (absl::Status s = def.Validate(k, v); !s.ok()) return s;
  }
  return Config(def, std::move(values));
}

std::string Config::Raw(const std::string& name) const {
  const ConfigKey* key = def_->Find(name);
  KSIM_CHECK_MSG(key != nullptr, "config read of an undefined key: " + name);
  auto it = values_.find(name);
  return it != values_.end() ? it->second : key->default_value;
}

bool Config::GetBool(const std::string& name) const { return Raw(name) == "true"; }

int64_t Config::GetLong(const std::string& name) const {
  std::string raw = Raw(name);
  if (raw.empty()) return -1;  // Kafka's null for optional numeric keys
  int64_t v = 0;
  KSIM_CHECK_MSG(absl::SimpleAtoi(raw, &v), "non-numeric value for " + name);
  return v;
}

double Config::GetDouble(const std::string& name) const {
  double v = 0;
  KSIM_CHECK_MSG(absl::SimpleAtod(Raw(name), &v), "non-numeric value for " + name);
  return v;
}

std::string Config::GetString(const std::string& name) const { return Raw(name); }

std::vector<std::string> Config::GetList(const std::string& name) const {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(Raw(name), ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> ClosestMatch(const std::string& word,
                                        const std::vector<std::string>& candidates) {
  int best = INT32_MAX;
  std::optional<std::string> out;
  for (const std::string& c : candidates) {
    int d = EditDistance(word, c);
    if (d < best) {
      best = d;
      out = c;
    }
  }
  const int limit = std::max<int>(2, static_cast<int>(word.size()) / 3);
  if (best > limit) return std::nullopt;
  return out;
}

const ConfigDef& ProducerConfigDef() {
  static const ConfigDef* def = [] {
    auto* d = new ConfigDef();
    d->Define(Enum("acks", "all", {"all", "-1", "0", "1"}, "acknowledgements the leader waits for"))
        .Define(Long("linger.ms", "5", 0, "batching delay (Kafka 4.0 default 5; 3.x used 0)"))
        .Define(Int("batch.size", 16384, 0, kIntMax, "per-partition batch size in bytes"))
        .Define(Long("buffer.memory", "33554432", 0, "bytes the producer may buffer"))
        .Define(Long("max.block.ms", "60000", 0, "how long send() blocks for buffer space"))
        .Define(Int("retries", kIntMax, 0, kIntMax, "resend attempts for retriable errors"))
        .Define(Int("delivery.timeout.ms", 120000, 0, kIntMax, "upper bound on send to ack"))
        .Define(Int("request.timeout.ms", 30000, 0, kIntMax, "wait for a response"))
        .Define(Long("retry.backoff.ms", "100", 0, "backoff before a retry"))
        .Define(Long("retry.backoff.max.ms", "1000", 0, "maximum exponential backoff"))
        .Define(Int("max.in.flight.requests.per.connection", 5, 1, kIntMax,
                    "unacknowledged requests per connection"))
        .Define(Bool("enable.idempotence", true, "exactly-once per partition via sequences"))
        .Define(Enum("compression.type", "none", kCompression, "batch compression codec"))
        .Define(Int("max.request.size", 1048576, 0, kIntMax, "largest request in bytes"))
        .Define(Str("partitioner.class", "", "custom partitioner name"))
        .Define(Bool("partitioner.adaptive.partitioning.enable", true,
                     "sticky partitioner prefers faster brokers"))
        .Define(Long("partitioner.availability.timeout.ms", "0", 0,
                     "skip partitions whose leader lags this long"))
        .Define(Bool("partitioner.ignore.keys", false, "partition keyed records as keyless"))
        .Define(Str("key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                    "key serializer"))
        .Define(Str("value.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                    "value serializer"))
        .Define(List("interceptor.classes", "", "producer interceptors, in order"))
        .Define(Str("client.id", "", "client id in requests"))
        .Define(Long("metadata.max.age.ms", "300000", 0, "forced metadata refresh period"))
        .Define(Long("connections.max.idle.ms", "540000", -1, "close idle connections"))
        .Define(Str("transactional.id", "", "transactions (not modelled; must stay unset)"));
    return d;
  }();
  return *def;
}

const ConfigDef& ConsumerConfigDef() {
  static const ConfigDef* def = [] {
    auto* d = new ConfigDef();
    d->Define(Str("group.id", "", "consumer group"))
        .Define(Str("group.instance.id", "", "static membership id"))
        .Define(Int("session.timeout.ms", 45000, 1, kIntMax, "member liveness timeout"))
        .Define(Int("heartbeat.interval.ms", 3000, 1, kIntMax, "heartbeat period"))
        .Define(Int("max.poll.interval.ms", 300000, 1, kIntMax, "max time between polls"))
        .Define(Int("max.poll.records", 500, 1, kIntMax, "records returned per poll"))
        .Define(Int("fetch.max.bytes", 52428800, 0, kIntMax, "bytes per fetch response"))
        .Define(Int("fetch.min.bytes", 1, 0, kIntMax, "bytes the broker waits for"))
        .Define(Int("fetch.max.wait.ms", 500, 0, kIntMax, "broker long-poll time"))
        .Define(Int("max.partition.fetch.bytes", 1048576, 0, kIntMax, "bytes per partition"))
        .Define(Enum("auto.offset.reset", "latest", {"latest", "earliest", "none"},
                     "where to start without a committed offset"))
        .Define(Bool("enable.auto.commit", true, "commit offsets in the background"))
        .Define(Int("auto.commit.interval.ms", 5000, 0, kIntMax, "auto-commit period"))
        .Define(List("partition.assignment.strategy",
                     "org.apache.kafka.clients.consumer.RangeAssignor,"
                     "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                     "assignors in order of preference"))
        .Define(Enum("isolation.level", "read_uncommitted",
                     {"read_uncommitted", "read_committed"}, "transaction isolation"))
        .Define(Int("request.timeout.ms", 30000, 0, kIntMax, "wait for a response"))
        .Define(Long("retry.backoff.ms", "100", 0, "backoff before a retry"))
        .Define(Int("default.api.timeout.ms", 60000, 0, kIntMax, "timeout of blocking calls"))
        .Define(Str("key.deserializer",
                    "org.apache.kafka.common.serialization.StringDeserializer", "key type"))
        .Define(Str("value.deserializer",
                    "org.apache.kafka.common.serialization.StringDeserializer", "value type"))
        .Define(Str("client.id", "", "client id in requests"))
        .Define(Long("metadata.max.age.ms", "300000", 0, "forced metadata refresh period"))
        .Define(Long("connections.max.idle.ms", "540000", -1, "close idle connections"))
        .Define(List("interceptor.classes", "", "consumer interceptors, in order"));
    return d;
  }();
  return *def;
}

const ConfigDef& BrokerConfigDef() {
  static const ConfigDef* def = [] {
    auto* d = new ConfigDef();
    d->Define(Int("min.insync.replicas", 1, 1, kIntMax, "ISR size needed for acks=all"))
        .Define(Bool("unclean.leader.election.enable", false, "allow out-of-ISR leaders"))
        .Define(Long("replica.lag.time.max.ms", "30000", 0, "follower lag before ISR removal"))
        .Define(Int("replica.fetch.wait.max.ms", 500, 0, kIntMax, "follower long-poll time"))
        .Define(Int("replica.fetch.min.bytes", 1, 0, kIntMax, "follower fetch min bytes"))
        .Define(Int("replica.fetch.max.bytes", 1048576, 0, kIntMax, "bytes per partition"))
        .Define(Int("replica.fetch.response.max.bytes", 10485760, 0, kIntMax,
                    "bytes per follower fetch"))
        .Define(Int("replica.fetch.backoff.ms", 1000, 0, kIntMax, "backoff after an error"))
        .Define(Int("num.replica.fetchers", 1, 1, kIntMax, "fetcher fibers per leader"))
        .Define(Long("replica.high.watermark.checkpoint.interval.ms", "5000", 1,
                     "HW checkpoint period"))
        .Define(Int("default.replication.factor", 1, 1, kIntMax, "auto-created topics"))
        .Define(Int("num.partitions", 1, 1, kIntMax, "auto-created topics"))
        .Define(Bool("auto.create.topics.enable", true, "create topics on first metadata use"))
        .Define(Int("offsets.topic.num.partitions", 50, 1, kIntMax, "__consumer_offsets size"))
        .Define(Int("offsets.topic.replication.factor", 3, 1, 32767, "__consumer_offsets RF"))
        .Define(Int("offsets.topic.segment.bytes", 104857600, 14, kIntMax,
                    "__consumer_offsets segment size (a compacted topic)"))
        .Define(Int("offsets.retention.minutes", 10080, 1, kIntMax,
                    "committed offset TTL (after the group empties; KIP-211)"))
        .Define(Long("offsets.retention.check.interval.ms", "600000", 1,
                     "how often the group coordinator expires offsets and empty groups"))
        .Define(Int("group.initial.rebalance.delay.ms", 3000, 0, kIntMax,
                    "delay of the first rebalance of an empty group"))
        .Define(Int("group.min.session.timeout.ms", 6000, 0, kIntMax, "lowest session timeout"))
        .Define(Int("group.max.session.timeout.ms", 1800000, 0, kIntMax,
                    "highest session timeout"))
        .Define(Int("zookeeper.session.timeout.ms", 18000, 1, kIntMax,
                    "metadata-service session timeout"))
        .Define(Int("num.network.threads", 3, 1, kIntMax, "network threads (CPU model)"))
        .Define(Int("num.io.threads", 8, 1, kIntMax, "request handler threads (CPU model)"))
        .Define(Int("log.segment.bytes", 1073741824, 14, kIntMax, "segment size"))
        .Define(Int("log.retention.hours", 168, -1, kIntMax, "retention by time"))
        .Define(Long("log.retention.ms", "", -1, "retention by time (overrides hours)"))
        .Define(Long("log.retention.bytes", "-1", -1, "retention by size per partition"))
        .Define(Long("log.retention.check.interval.ms", "300000", 1,
                     "how often the broker deletes segments past retention"))
        .Define(Int("log.roll.hours", 168, 1, kIntMax, "roll a segment after this long"))
        .Define(Long("log.flush.interval.messages", kLongMaxStr, 1, "fsync every N messages"))
        .Define(Long("log.flush.interval.ms", "", 0, "fsync period"))
        .Define(Int("log.flush.offset.checkpoint.interval.ms", 60000, 0, kIntMax,
                    "how often each log's recovery point is written"))
        .Define(Int("log.index.interval.bytes", 4096, 0, kIntMax, "offset index density"))
        .Define(Enum("log.cleanup.policy", "delete", {"delete", "compact", "compact,delete"},
                     "retention policy"))
        .Define(Bool("log.cleaner.enable", true, "run the log cleaner (compaction)"))
        .Define(Int("log.cleaner.threads", 1, 0, kIntMax, "log cleaner fibers"))
        .Define(Long("log.cleaner.backoff.ms", "15000", 0,
                     "cleaner sleep when no log needs cleaning"))
        .Define(Dbl("log.cleaner.min.cleanable.ratio", "0.5",
                    "dirty ratio above which a compacted log is cleaned"))
        .Define(Long("log.cleaner.delete.retention.ms", "86400000", 0,
                     "how long tombstones are kept once cleaned"))
        .Define(Long("log.cleaner.min.compaction.lag.ms", "0", 0,
                     "records younger than this are not compacted"))
        .Define(Long("log.cleaner.max.compaction.lag.ms", kLongMaxStr, 1,
                     "records older than this are compacted whatever the dirty ratio"))
        .Define(Enum("compression.type", "producer",
                     {"producer", "uncompressed", "none", "gzip", "snappy", "lz4", "zstd"},
                     "codec the broker stores"))
        .Define(Bool("auto.leader.rebalance.enable", true, "move leaders back to preferred"))
        .Define(Int("leader.imbalance.check.interval.seconds", 300, 1, kIntMax,
                    "preferred-leader check period"))
        .Define(Int("leader.imbalance.per.broker.percentage", 10, 0, 100,
                    "imbalance that triggers a rebalance"))
        .Define(Str("broker.rack", "", "rack for rack-aware placement"))
        .Define(Int("message.max.bytes", 1048588, 0, kIntMax, "largest record batch"))
        .Define(Bool("delete.topic.enable", true, "allow topic deletion"))
        .Define(Enum("ksim.truncation.rule", "leader-epoch", {"leader-epoch", "high-watermark"},
                     "simulator only: follower truncation rule; high-watermark reproduces the "
                     "pre-KIP-101 data-loss bugs"));
    return d;
  }();
  return *def;
}

const ConfigDef& TopicConfigDef() {
  static const ConfigDef* def = [] {
    auto* d = new ConfigDef();
    d->Define(Enum("cleanup.policy", "delete", {"delete", "compact", "compact,delete"},
                   "retention policy"))
        .Define(Enum("compression.type", "producer",
                     {"producer", "uncompressed", "none", "gzip", "snappy", "lz4", "zstd"},
                     "codec the broker stores"))
        .Define(Int("min.insync.replicas", 1, 1, kIntMax, "ISR size needed for acks=all"))
        .Define(Bool("unclean.leader.election.enable", false, "allow out-of-ISR leaders"))
        .Define(Long("retention.ms", "604800000", -1, "retention by time"))
        .Define(Long("retention.bytes", "-1", -1, "retention by size"))
        .Define(Int("segment.bytes", 1073741824, 14, kIntMax, "segment size"))
        .Define(Long("segment.ms", "604800000", 1, "roll period"))
        .Define(Long("flush.messages", kLongMaxStr, 1, "fsync every N messages"))
        .Define(Long("flush.ms", kLongMaxStr, 0, "fsync period"))
        .Define(Int("max.message.bytes", 1048588, 0, kIntMax, "largest record batch"))
        .Define(Int("index.interval.bytes", 4096, 0, kIntMax, "offset index density"))
        .Define(Long("delete.retention.ms", "86400000", 0, "tombstone retention"))
        .Define(Dbl("min.cleanable.dirty.ratio", "0.5",
                    "dirty ratio above which the log cleaner compacts this topic"))
        .Define(Long("min.compaction.lag.ms", "0", 0, "records younger than this stay"))
        .Define(Long("max.compaction.lag.ms", kLongMaxStr, 1,
                     "records older than this are compacted whatever the dirty ratio"))
        .Define(Enum("message.timestamp.type", "CreateTime", {"CreateTime", "LogAppendTime"},
                     "timestamp kept"));
    return d;
  }();
  return *def;
}

}  // namespace ksim
