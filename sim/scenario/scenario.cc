#include "sim/scenario/scenario.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/client/producer/interceptor.h"
#include "engine/client/producer/serializer.h"
#include "sim/check/checkers.h"
#include "sim/scenario/hardware.h"
#include "sim/scenario/yaml_reader.h"

namespace ksim {
namespace {

const Keys kTopKeys = {"name",      "description", "seed",   "duration", "settle",
                       "cluster",   "network",     "topics", "producers", "consumers",
                       "faults",    "nemesis",     "expect"};

absl::Status ParseCluster(const Reader& r, const YAML::Node& n, Scenario* sc) {
  const std::string path = "cluster";
  KSIM_RETURN_IF_ERROR(r.CheckKeys(n, path, {"brokers", "hardware", "racks", "broker-config"}));
  if (n["brokers"]) {
    KSIM_ASSIGN_OR_RETURN(int64_t b, r.Int(n["brokers"], "cluster.brokers", 1, 1000));
    sc->brokers = static_cast<int32_t>(b);
  }
  if (const YAML::Node hw = n["hardware"]) {
    const Keys fields = {"profile", "cpu-cores", "nic", "disk-read", "disk-write",
                         "disk-latency", "fsync-latency", "page-cache", "memory-bandwidth"};
    std::string profile = "commodity-2014";
    if (hw.IsScalar()) {
      profile = hw.Scalar();
    } else {
      KSIM_RETURN_IF_ERROR(r.CheckKeys(hw, "cluster.hardware", fields));
      if (hw["profile"]) KSIM_SET_OR_RETURN(profile, r.Scalar(hw["profile"], "cluster.hardware.profile"));
    }
    const HardwareProfile* p = FindHardwareProfile(profile);
    if (p == nullptr) {
      auto s = ClosestMatch(profile, HardwareProfileNames());
      return r.Error(hw.IsScalar() ? hw : hw["profile"], "cluster.hardware",
                     absl::StrCat("unknown hardware profile '", profile, "'",
                                  s ? absl::StrCat("; did you mean '", *s, "'?") : "",
                                  " (profiles: ", absl::StrJoin(HardwareProfileNames(), ", "),
                                  ")"));
    }
    sc->hardware = *p;
    if (hw.IsMap()) {
      HardwareProfile& h = sc->hardware;
      const std::string hp = "cluster.hardware.";
      if (hw["cpu-cores"]) {
        KSIM_ASSIGN_OR_RETURN(int64_t c, r.Int(hw["cpu-cores"], hp + "cpu-cores", 1, 1024));
        h.cpu_cores = static_cast<int32_t>(c);
      }
      // Bandwidths are written like sizes per second: nic in bits ("10Gb" is not parsed;
      // give bytes per second, e.g. 125MB for 1 Gb/s).
      if (hw["nic"]) {
        KSIM_ASSIGN_OR_RETURN(int64_t b, r.Size(hw["nic"], hp + "nic"));
        h.nic_bits_per_second = b * 8;
      }
      if (hw["disk-read"]) KSIM_SET_OR_RETURN(h.disk_read_bytes_per_second, r.Size(hw["disk-read"], hp + "disk-read"));
      if (hw["disk-write"]) KSIM_SET_OR_RETURN(h.disk_write_bytes_per_second, r.Size(hw["disk-write"], hp + "disk-write"));
      if (hw["disk-latency"]) {
        KSIM_ASSIGN_OR_RETURN(h.disk_read_latency_ns, r.Duration(hw["disk-latency"], hp + "disk-latency"));
        h.disk_write_latency_ns = h.disk_read_latency_ns;
      }
      if (hw["fsync-latency"]) KSIM_SET_OR_RETURN(h.fsync_latency_ns, r.Duration(hw["fsync-latency"], hp + "fsync-latency"));
      if (hw["page-cache"]) KSIM_SET_OR_RETURN(h.page_cache_bytes, r.Size(hw["page-cache"], hp + "page-cache"));
      if (hw["memory-bandwidth"]) KSIM_SET_OR_RETURN(h.memory_bytes_per_second, r.Size(hw["memory-bandwidth"], hp + "memory-bandwidth"));
    }
  }
  if (n["racks"]) {
    KSIM_ASSIGN_OR_RETURN(sc->racks, r.StringList(n["racks"], "cluster.racks"));
    if (static_cast<int32_t>(sc->racks.size()) != sc->brokers) {
      return r.Error(n["racks"], "cluster.racks",
                     absl::StrCat("give one rack per broker (", sc->brokers, "), got ",
                                  sc->racks.size()));
    }
    for (size_t i = 0; i < sc->racks.size(); ++i) {
      // Kafka refuses rack-aware placement when only some brokers have a rack.
      if (sc->racks[i].empty()) {
        return r.Error(n["racks"], "cluster.racks",
                       absl::StrCat("broker-", i + 1, " has an empty rack name; give every "
                                    "broker a rack, or leave racks out"));
      }
    }
  }
  if (n["broker-config"]) {
    KSIM_ASSIGN_OR_RETURN(sc->broker_config,
                          r.Configs(n["broker-config"], "cluster.broker-config", BrokerConfigDef()));
  }
  return absl::OkStatus();
}

absl::Status ParseNetwork(const Reader& r, const YAML::Node& n, Scenario* sc) {
  KSIM_RETURN_IF_ERROR(r.CheckKeys(n, "network", {"latency", "jitter", "distribution"}));
  if (n["latency"]) KSIM_SET_OR_RETURN(sc->network.latency_ns, r.Duration(n["latency"], "network.latency"));
  if (n["jitter"]) KSIM_SET_OR_RETURN(sc->network.jitter_ns, r.Duration(n["jitter"], "network.jitter"));
  if (n["distribution"]) {
    KSIM_ASSIGN_OR_RETURN(std::string d, r.Scalar(n["distribution"], "network.distribution"));
    const Keys allowed = {"constant", "uniform", "normal", "exponential"};
    if (std::find(allowed.begin(), allowed.end(), d) == allowed.end()) {
      auto s = ClosestMatch(d, allowed);
      return r.Error(n["distribution"], "network.distribution",
                     absl::StrCat("unknown distribution '", d, "'",
                                  s ? absl::StrCat("; did you mean '", *s, "'?") : "",
                                  " (constant, uniform, normal, exponential)"));
    }
    sc->network.distribution = d;
  }
  return absl::OkStatus();
}

absl::Status ParseTopics(const Reader& r, const YAML::Node& n, Scenario* sc) {
  if (!n.IsSequence()) return r.Error(n, "topics", "expected a list of topics");
  std::set<std::string> names;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node t = n[i];
    std::string path = absl::StrCat("topics[", i, "]");
    KSIM_RETURN_IF_ERROR(r.CheckKeys(t, path, {"name", "partitions", "replication.factor", "config"}));
    TopicSpec spec;
    if (!t["name"]) return r.Error(t, path, "a topic needs a name");
    KSIM_ASSIGN_OR_RETURN(spec.name, r.Scalar(t["name"], path + ".name"));
    if (!names.insert(spec.name).second) return r.Error(t["name"], path + ".name", "topic '" + spec.name + "' is defined twice");
    if (spec.name.rfind("__", 0) == 0) return r.Error(t["name"], path + ".name", "names starting with '__' are Kafka's internal topics");
    if (t["partitions"]) {
      KSIM_ASSIGN_OR_RETURN(int64_t p, r.Int(t["partitions"], path + ".partitions", 1, 100000));
      spec.partitions = static_cast<int32_t>(p);
    }
    if (t["replication.factor"]) {
      KSIM_ASSIGN_OR_RETURN(int64_t rf, r.Int(t["replication.factor"], path + ".replication.factor", 1, 32767));
      if (rf > sc->brokers) {
        return r.Error(t["replication.factor"], path + ".replication.factor",
                       absl::StrCat("replication factor ", rf, " is larger than the cluster (",
                                    sc->brokers, " brokers)"));
      }
      spec.replication_factor = static_cast<int32_t>(rf);
    }
    if (t["config"]) KSIM_SET_OR_RETURN(spec.config, r.Configs(t["config"], path + ".config", TopicConfigDef()));
    sc->topics.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status ParseProducers(const Reader& r, const YAML::Node& n, Scenario* sc) {
  if (!n.IsSequence()) return r.Error(n, "producers", "expected a list of producer workloads");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node p = n[i];
    std::string path = absl::StrCat("producers[", i, "]");
    KSIM_RETURN_IF_ERROR(r.CheckKeys(p, path, {"name", "count", "topic", "rate", "key", "value-size",
                                               "records", "start", "stop", "config"}));
    ProducerSpec spec;
    spec.name = absl::StrCat("producer-", i + 1);
    if (p["name"]) KSIM_SET_OR_RETURN(spec.name, r.Scalar(p["name"], path + ".name"));
    path = "producers." + spec.name;
    if (p["count"]) {
      KSIM_ASSIGN_OR_RETURN(int64_t c, r.Int(p["count"], path + ".count", 1, 100000));
      spec.count = static_cast<int32_t>(c);
    }
    if (!p["topic"]) return r.Error(p, path, "a producer needs a topic");
    KSIM_ASSIGN_OR_RETURN(spec.topic, r.Scalar(p["topic"], path + ".topic"));
    bool known = false;
    std::vector<std::string> topic_names;
    for (const TopicSpec& t : sc->topics) {
      topic_names.push_back(t.name);
      known |= t.name == spec.topic;
    }
    if (!known) {
      auto s = ClosestMatch(spec.topic, topic_names);
      return r.Error(p["topic"], path + ".topic",
                     absl::StrCat("unknown topic '", spec.topic, "'",
                                  s ? absl::StrCat("; did you mean '", *s, "'?") : "",
                                  " (declare it under topics:)"));
    }
    if (p["rate"]) {
      KSIM_ASSIGN_OR_RETURN(std::string s, r.Scalar(p["rate"], path + ".rate"));
      auto rate = ParseRate(s);
      if (!rate.ok()) return r.Error(p["rate"], path + ".rate", std::string(rate.status().message()));
      spec.rate_per_second = *rate;
    }
    if (p["key"]) KSIM_SET_OR_RETURN(spec.key, ParseKeySpec(r, p["key"], path + ".key"));
    if (p["value-size"]) KSIM_SET_OR_RETURN(spec.value_size, ParseSizeSpec(r, p["value-size"], path + ".value-size"));
    if (p["records"]) KSIM_SET_OR_RETURN(spec.records, r.Int(p["records"], path + ".records", 1, INT64_MAX));
    if (p["start"]) KSIM_SET_OR_RETURN(spec.start_ns, r.Duration(p["start"], path + ".start"));
    if (p["stop"]) {
      KSIM_ASSIGN_OR_RETURN(TimeNs stop, r.Duration(p["stop"], path + ".stop"));
      spec.stop_ns = stop;
    }
    if (p["config"]) KSIM_SET_OR_RETURN(spec.config, r.Configs(p["config"], path + ".config", ProducerConfigDef()));
    // Keys ksim accepts by name but does not model yet are refused, never silently ignored.
    if (auto it = spec.config.find("transactional.id"); it != spec.config.end() && !it->second.empty()) {
      return r.Error(p["config"]["transactional.id"], path + ".config.transactional.id",
                     "transactions are not modelled by ksim");
    }
    if (auto it = spec.config.find("interceptor.classes"); it != spec.config.end()) {
      auto st = ValidateProducerInterceptors(absl::StrSplit(it->second, ',', absl::SkipWhitespace()));
      if (!st.ok()) {
        return r.Error(p["config"]["interceptor.classes"], path + ".config.interceptor.classes",
                       std::string(st.message()));
      }
    }
    for (const char* key : {"key.serializer", "value.serializer"}) {
      auto it = spec.config.find(key);
      if (it == spec.config.end()) continue;
      auto ser = MakeSerializer(it->second);
      if (!ser.ok()) {
        return r.Error(p["config"][key], path + ".config." + key, std::string(ser.status().message()));
      }
      const Datum::Kind kind = (*ser)->accepts();
      if (std::string(key) == "key.serializer" && spec.key.kind == "fixed" &&
          (kind == Datum::Kind::kInt || kind == Datum::Kind::kLong)) {
        int64_t v;
        if (!absl::SimpleAtoi(spec.key.fixed, &v) ||
            (kind == Datum::Kind::kInt && (v < INT32_MIN || v > INT32_MAX))) {
          return r.Error(p["key"], path + ".key",
                         absl::StrCat("the fixed key '", spec.key.fixed, "' is not a number, but ",
                                      it->second, " serializes numbers"));
        }
      }
    }
    if (auto it = spec.config.find("partitioner.class"); it != spec.config.end()) {
      const std::vector<std::string> partitioners = {
          "", "default", "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
          "round-robin", "org.apache.kafka.clients.producer.RoundRobinPartitioner"};
      if (std::find(partitioners.begin(), partitioners.end(), it->second) == partitioners.end()) {
        auto s = ClosestMatch(it->second, partitioners);
        return r.Error(p["config"]["partitioner.class"], path + ".config.partitioner.class",
                       absl::StrCat("unknown partitioner '", it->second, "'",
                                    s ? absl::StrCat("; did you mean '", *s, "'?") : "",
                                    " (default, round-robin, or the Java class names)"));
      }
    }
    sc->producers.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status ParseConsumers(const Reader& r, const YAML::Node& n, Scenario* sc) {
  if (!n.IsSequence()) return r.Error(n, "consumers", "expected a list of consumer groups");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node c = n[i];
    std::string path = absl::StrCat("consumers[", i, "]");
    KSIM_RETURN_IF_ERROR(r.CheckKeys(c, path, {"group", "count", "subscribe", "pattern", "processing",
                                               "commit", "threading", "workers", "start", "config"}));
    ConsumerSpec spec;
    if (!c["group"]) return r.Error(c, path, "a consumer workload needs a group");
    KSIM_ASSIGN_OR_RETURN(spec.group, r.Scalar(c["group"], path + ".group"));
    path = "consumers." + spec.group;
    if (c["count"]) {
      KSIM_ASSIGN_OR_RETURN(int64_t k, r.Int(c["count"], path + ".count", 1, 10000));
      spec.count = static_cast<int32_t>(k);
    }
    if (c["subscribe"]) KSIM_SET_OR_RETURN(spec.subscribe, r.StringList(c["subscribe"], path + ".subscribe"));
    if (c["pattern"]) KSIM_SET_OR_RETURN(spec.pattern, r.Scalar(c["pattern"], path + ".pattern"));
    if (spec.subscribe.empty() && spec.pattern.empty()) {
      return r.Error(c, path, "give subscribe: [topics] or pattern: REGEX");
    }
    if (c["processing"]) KSIM_SET_OR_RETURN(spec.processing_ns, r.Duration(c["processing"], path + ".processing"));
    auto one_of = [&](const char* key, std::string* out, const Keys& allowed) -> absl::Status {
      if (!c[key]) return absl::OkStatus();
      KSIM_ASSIGN_OR_RETURN(*out, r.Scalar(c[key], path + "." + key));
      if (std::find(allowed.begin(), allowed.end(), *out) != allowed.end()) return absl::OkStatus();
      auto s = ClosestMatch(*out, allowed);
      return r.Error(c[key], path + "." + key,
                     absl::StrCat("'", *out, "' is not one of ", absl::StrJoin(allowed, ", "),
                                  s ? absl::StrCat("; did you mean '", *s, "'?") : ""));
    };
    KSIM_RETURN_IF_ERROR(one_of("commit", &spec.commit, {"auto", "sync", "async", "before-processing"}));
    KSIM_RETURN_IF_ERROR(one_of("threading", &spec.threading, {"consumer-per-fiber", "worker-pool"}));
    if (c["workers"]) {
      KSIM_ASSIGN_OR_RETURN(int64_t w, r.Int(c["workers"], path + ".workers", 1, 1000));
      spec.workers = static_cast<int32_t>(w);
    }
    if (c["start"]) KSIM_SET_OR_RETURN(spec.start_ns, r.Duration(c["start"], path + ".start"));
    if (c["config"]) KSIM_SET_OR_RETURN(spec.config, r.Configs(c["config"], path + ".config", ConsumerConfigDef()));
    for (const char* key : {"group.instance.id", "interceptor.classes"}) {
      auto it = spec.config.find(key);
      if (it != spec.config.end() && !it->second.empty()) {
        return r.Error(c["config"][key], path + ".config." + key,
                       std::string(key) + " is not supported by scenario workloads yet");
      }
    }
    if (auto it = spec.config.find("isolation.level");
        it != spec.config.end() && it->second == "read_committed") {
      return r.Error(c["config"]["isolation.level"], path + ".config.isolation.level",
                     "read_committed needs transactions, which ksim does not model");
    }
    sc->consumers.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseFaults(const Reader& r, const YAML::Node& n, Scenario* sc);
absl::Status ParseNemesis(const Reader& r, const YAML::Node& n, Scenario* sc);
absl::Status ApplyOverride(YAML::Node root, const std::string& assignment);

absl::StatusOr<Scenario> ParseScenario(const std::string& text, const std::string& file,
                                       const std::vector<std::string>& overrides) {
  Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": YAML syntax error: ",
                                                   e.msg));
  }
  if (!root.IsMap()) return r.Error(root, "", "a scenario file is a mapping (name:, cluster:, ...)");
  for (const std::string& o : overrides) {
    absl::Status s = ApplyOverride(root, o);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("--set ", o, ": ", s.message()));
  }
  KSIM_RETURN_IF_ERROR(r.CheckKeys(root, "", kTopKeys));
  Scenario sc;
  sc.file = file;
  sc.name = file;
  if (root["name"]) KSIM_SET_OR_RETURN(sc.name, r.Scalar(root["name"], "name"));
  if (root["description"]) KSIM_SET_OR_RETURN(sc.description, r.Scalar(root["description"], "description"));
  if (root["seed"]) {
    KSIM_ASSIGN_OR_RETURN(int64_t seed, r.Int(root["seed"], "seed", 0, INT64_MAX));
    sc.seed = static_cast<uint64_t>(seed);
  }
  if (root["duration"]) KSIM_SET_OR_RETURN(sc.duration_ns, r.Duration(root["duration"], "duration"));
  if (sc.duration_ns <= 0) return r.Error(root["duration"], "duration", "must be positive");
  if (root["settle"]) KSIM_SET_OR_RETURN(sc.settle_ns, r.Duration(root["settle"], "settle"));
  if (root["cluster"]) KSIM_RETURN_IF_ERROR(ParseCluster(r, root["cluster"], &sc));
  sc.hardware = sc.hardware.name.empty() ? *FindHardwareProfile("commodity-2014") : sc.hardware;
  if (root["network"]) KSIM_RETURN_IF_ERROR(ParseNetwork(r, root["network"], &sc));
  if (root["topics"]) KSIM_RETURN_IF_ERROR(ParseTopics(r, root["topics"], &sc));
  if (root["producers"]) KSIM_RETURN_IF_ERROR(ParseProducers(r, root["producers"], &sc));
  if (root["consumers"]) KSIM_RETURN_IF_ERROR(ParseConsumers(r, root["consumers"], &sc));
  if (root["faults"]) KSIM_RETURN_IF_ERROR(ParseFaults(r, root["faults"], &sc));
  if (root["nemesis"]) KSIM_RETURN_IF_ERROR(ParseNemesis(r, root["nemesis"], &sc));
  if (root["expect"]) {
    KSIM_ASSIGN_OR_RETURN(sc.expect, r.StringList(root["expect"], "expect"));
    for (size_t i = 0; i < sc.expect.size(); ++i) {
      const auto& names = AllCheckNames();
      if (std::find(names.begin(), names.end(), sc.expect[i]) != names.end()) continue;
      auto s = ClosestMatch(sc.expect[i], names);
      const YAML::Node e = root["expect"].IsSequence() ? root["expect"][i] : root["expect"];
      return r.Error(e, "expect",
                     absl::StrCat("unknown check '", sc.expect[i], "'",
                                  s ? absl::StrCat("; did you mean '", *s, "'?")
                                    : absl::StrCat(" (checks: ", absl::StrJoin(names, ", "), ")")));
    }
  }
  sc.notes = r.notes;
  return sc;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path,
                                      const std::vector<std::string>& overrides) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file"));
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseScenario(ss.str(), path, overrides);
}

}  // namespace ksim
