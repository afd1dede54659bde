// The faults:, nemesis: sections and --set overrides of scenario files.
#include <set>

#include "sim/scenario/scenario.h"
#include "sim/scenario/yaml_reader.h"

namespace ksim {
namespace {

const Keys kFaultKinds = {"crash",        "restart", "partition",  "one-way", "isolate",
                          "heal",         "jitter",  "slow-disk",  "nic-throttle",
                          "add-partitions", "delete-topic"};
const Keys kNemesisKinds = {"crash", "power", "partition", "isolate", "one-way", "jitter",
                            "slow-disk", "nic-throttle", "consumer-crash"};

// What a fault entry may name.
enum class Targets { kAny, kBrokers, kBrokersAndConsumers };

// Consumer instances: group-1 .. group-N, each on its own client host.
std::vector<std::string> ConsumerInstances(const Scenario& sc) {
  std::vector<std::string> names;
  for (const ConsumerSpec& c : sc.consumers) {
    for (int i = 1; i <= c.count; ++i) names.push_back(absl::StrCat(c.group, "-", i));
  }
  return names;
}

// Node names a fault may target: broker-1..N, the clients by instance name, and groups.
std::vector<std::string> NodeNames(const Scenario& sc) {
  std::vector<std::string> names = {"metadata", "brokers", "clients", "all"};
  for (int b = 1; b <= sc.brokers; ++b) names.push_back(absl::StrCat("broker-", b));
  for (const ProducerSpec& p : sc.producers) {
    for (int i = 1; i <= p.count; ++i) names.push_back(absl::StrCat(p.name, "-", i));
  }
  for (const std::string& c : ConsumerInstances(sc)) names.push_back(c);
  return names;
}

absl::StatusOr<std::vector<std::string>> Nodes(const Reader& r, const Scenario& sc,
                                               const YAML::Node& n, const std::string& path,
                                               Targets targets) {
  KSIM_ASSIGN_OR_RETURN(std::vector<std::string> nodes, r.StringList(n, path));
  std::vector<std::string> known = NodeNames(sc);
  if (targets != Targets::kAny) {
    known.clear();
    for (int b = 1; b <= sc.brokers; ++b) known.push_back(absl::StrCat("broker-", b));
    if (targets == Targets::kBrokersAndConsumers) {
      for (const std::string& c : ConsumerInstances(sc)) known.push_back(c);
    }
  }
  for (const std::string& node : nodes) {
    if (std::find(known.begin(), known.end(), node) != known.end()) continue;
    auto s = ClosestMatch(node, known);
    const bool broker_like = node.rfind("broker-", 0) == 0;
    std::string what = "node";
    std::string hint;
    if (targets == Targets::kBrokers) {
      what = "broker";
      hint = absl::StrCat(" (brokers are broker-1 .. broker-", sc.brokers, ")");
    } else if (targets == Targets::kBrokersAndConsumers) {
      what = broker_like ? "broker" : "broker or consumer instance";
      hint = absl::StrCat(" (brokers are broker-1 .. broker-", sc.brokers,
                          "; consumer instances are GROUP-1 .. GROUP-count)");
    }
    return r.Error(n, path,
                   absl::StrCat("unknown ", what, " '", node, "'",
                                s ? absl::StrCat("; did you mean '", *s, "'?") : "", hint));
  }
  return nodes;
}

absl::Status ParseSides(const Reader& r, const Scenario& sc, const YAML::Node& n,
                        const std::string& path, FaultSpec* f, const Keys& extra) {
  Keys keys = {"between", "and"};
  keys.insert(keys.end(), extra.begin(), extra.end());
  KSIM_RETURN_IF_ERROR(r.CheckKeys(n, path, keys));
  if (!n["between"]) return r.Error(n, path, "give between: [nodes] (and optionally and: [nodes])");
  KSIM_ASSIGN_OR_RETURN(f->side_a, Nodes(r, sc, n["between"], path + ".between", Targets::kAny));
  if (n["and"]) KSIM_SET_OR_RETURN(f->side_b, Nodes(r, sc, n["and"], path + ".and", Targets::kAny));
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseFaults(const Reader& r, const YAML::Node& n, Scenario* sc) {
  if (!n.IsSequence()) return r.Error(n, "faults", "expected a list of faults");
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node y = n[i];
    const std::string path = absl::StrCat("faults[", i, "]");
    Keys keys = {"at", "from", "to", "mode", "factor"};
    keys.insert(keys.end(), kFaultKinds.begin(), kFaultKinds.end());
    KSIM_RETURN_IF_ERROR(r.CheckKeys(y, path, keys));
    FaultSpec f;
    f.line = y.Mark().line + 1;
    if (y["at"] && y["from"]) return r.Error(y, path, "give either at: or from:/to:, not both");
    if (y["at"]) KSIM_SET_OR_RETURN(f.at_ns, r.Duration(y["at"], path + ".at"));
    if (y["from"]) KSIM_SET_OR_RETURN(f.at_ns, r.Duration(y["from"], path + ".from"));
    if (!y["at"] && !y["from"]) return r.Error(y, path, "a fault needs at: TIME or from: TIME");
    if (y["to"]) {
      KSIM_ASSIGN_OR_RETURN(TimeNs to, r.Duration(y["to"], path + ".to"));
      if (to <= f.at_ns) return r.Error(y["to"], path + ".to", "must be after from:");
      f.until_ns = to;
    }
    for (const std::string& kind : kFaultKinds) {
      if (!y[kind]) continue;
      if (!f.kind.empty()) return r.Error(y[kind], path, "one fault per entry (found " + f.kind + " and " + kind + ")");
      f.kind = kind;
    }
    if (f.kind.empty()) {
      return r.Error(y, path, absl::StrCat("no fault given (one of: ", absl::StrJoin(kFaultKinds, ", "), ")"));
    }
    const YAML::Node body = y[f.kind];
    const std::string bpath = path + "." + f.kind;
    if (f.kind == "crash" || f.kind == "restart" || f.kind == "isolate" ||
        f.kind == "slow-disk" || f.kind == "nic-throttle") {
      // Brokers and consumer instances can crash and restart (a consumer's fibers die with
      // its host; it rejoins as a fresh consumer with the same client.id).
      const Targets targets = f.kind == "crash" || f.kind == "restart" ? Targets::kBrokersAndConsumers
                              : f.kind == "slow-disk"                  ? Targets::kBrokers
                                                                       : Targets::kAny;
      KSIM_ASSIGN_OR_RETURN(f.nodes, Nodes(r, *sc, body, bpath, targets));
    } else if (f.kind == "partition") {
      KSIM_RETURN_IF_ERROR(ParseSides(r, *sc, body, bpath, &f, {}));
    } else if (f.kind == "jitter") {
      KSIM_RETURN_IF_ERROR(ParseSides(r, *sc, body, bpath, &f, {"extra", "jitter"}));
      if (body["extra"]) KSIM_SET_OR_RETURN(f.extra_latency_ns, r.Duration(body["extra"], bpath + ".extra"));
      if (body["jitter"]) KSIM_SET_OR_RETURN(f.extra_jitter_ns, r.Duration(body["jitter"], bpath + ".jitter"));
    } else if (f.kind == "one-way") {
      KSIM_RETURN_IF_ERROR(r.CheckKeys(body, bpath, {"from", "to"}));
      if (!body["from"] || !body["to"]) return r.Error(body, bpath, "give from: NODE and to: NODE");
      KSIM_ASSIGN_OR_RETURN(f.side_a, Nodes(r, *sc, body["from"], bpath + ".from", Targets::kAny));
      KSIM_ASSIGN_OR_RETURN(f.side_b, Nodes(r, *sc, body["to"], bpath + ".to", Targets::kAny));
    } else if (f.kind == "add-partitions") {
      // An admin action (kafka-topics --alter --partitions N): CreatePartitions to the
      // controller. Producers see the new partitions at their next metadata refresh
      // (metadata.max.age.ms); a group's leader then asks for a rebalance.
      KSIM_RETURN_IF_ERROR(r.CheckKeys(body, bpath, {"topic", "count"}));
      if (!body["topic"] || !body["count"]) return r.Error(body, bpath, "give topic: NAME and count: N");
      KSIM_ASSIGN_OR_RETURN(f.topic, r.Scalar(body["topic"], bpath + ".topic"));
      const TopicSpec* spec = nullptr;
      std::vector<std::string> names;
      for (const TopicSpec& t : sc->topics) {
        names.push_back(t.name);
        if (t.name == f.topic) spec = &t;
      }
      if (spec == nullptr) {
        auto s = ClosestMatch(f.topic, names);
        return r.Error(body["topic"], bpath + ".topic",
                       absl::StrCat("unknown topic '", f.topic, "'",
                                    s ? absl::StrCat("; did you mean '", *s, "'?") : ""));
      }
      KSIM_ASSIGN_OR_RETURN(int64_t count, r.Int(body["count"], bpath + ".count", 1, 100000));
      if (count <= spec->partitions) {
        return r.Error(body["count"], bpath + ".count",
                       absl::StrCat("the new count must exceed the topic's ", spec->partitions,
                                    " partitions (Kafka cannot remove partitions)"));
      }
      f.count = static_cast<int32_t>(count);
    } else if (f.kind == "delete-topic") {
      // An admin action (kafka-topics --delete): DeleteTopics to the controller. Producers
      // still writing to it recreate it through auto.create.topics.enable (num.partitions,
      // default.replication.factor), as Kafka's do.
      KSIM_ASSIGN_OR_RETURN(f.topic, r.Scalar(body, bpath));
      std::vector<std::string> names;
      bool known = false;
      for (const TopicSpec& t : sc->topics) {
        names.push_back(t.name);
        known |= t.name == f.topic;
      }
      if (!known) {
        auto s = ClosestMatch(f.topic, names);
        return r.Error(body, bpath,
                       absl::StrCat("unknown topic '", f.topic, "'",
                                    s ? absl::StrCat("; did you mean '", *s, "'?") : ""));
      }
      if (f.until_ns) {
        return r.Error(y["to"], path + ".to", "delete-topic takes at: only; it has no end to heal");
      }
    } else if (f.kind == "heal") {
      KSIM_ASSIGN_OR_RETURN(std::string what, r.Scalar(body, bpath));
      if (what != "all") return r.Error(body, bpath, "heal takes 'all'");
    }
    if (y["mode"]) {
      if (f.kind != "crash") return r.Error(y["mode"], path + ".mode", "mode: applies to crash only");
      KSIM_ASSIGN_OR_RETURN(f.mode, r.Scalar(y["mode"], path + ".mode"));
      if (f.mode != "process" && f.mode != "power") {
        auto s = ClosestMatch(f.mode, {"process", "power"});
        return r.Error(y["mode"], path + ".mode",
                       absl::StrCat("'", f.mode, "' is not process or power",
                                    s ? absl::StrCat("; did you mean '", *s, "'?") : ""));
      }
    }
    if (y["factor"]) {
      if (f.kind != "slow-disk" && f.kind != "nic-throttle") {
        return r.Error(y["factor"], path + ".factor", "factor: applies to slow-disk and nic-throttle");
      }
      KSIM_ASSIGN_OR_RETURN(f.factor, r.Double(y["factor"], path + ".factor"));
      if (f.factor <= 0) return r.Error(y["factor"], path + ".factor", "must be positive");
    }
    sc->faults.push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::Status ParseNemesis(const Reader& r, const YAML::Node& n, Scenario* sc) {
  KSIM_RETURN_IF_ERROR(r.CheckKeys(n, "nemesis", {"kinds", "interval", "duration", "start", "stop"}));
  NemesisSpec& ns = sc->nemesis;
  ns.enabled = true;
  ns.kinds = {"crash", "partition"};
  if (n["kinds"]) KSIM_SET_OR_RETURN(ns.kinds, r.StringList(n["kinds"], "nemesis.kinds"));
  for (const std::string& k : ns.kinds) {
    if (std::find(kNemesisKinds.begin(), kNemesisKinds.end(), k) != kNemesisKinds.end()) continue;
    auto s = ClosestMatch(k, kNemesisKinds);
    return r.Error(n["kinds"], "nemesis.kinds",
                   absl::StrCat("unknown fault kind '", k, "'",
                                s ? absl::StrCat("; did you mean '", *s, "'?") : "",
                                " (", absl::StrJoin(kNemesisKinds, ", "), ")"));
  }
  if (std::find(ns.kinds.begin(), ns.kinds.end(), "consumer-crash") != ns.kinds.end()) {
    ns.consumer_instances = ConsumerInstances(*sc);
    if (ns.consumer_instances.empty()) {
      return r.Error(n["kinds"], "nemesis.kinds", "consumer-crash needs consumers: to crash");
    }
  }
  if (n["interval"]) KSIM_SET_OR_RETURN(ns.interval_ns, r.Duration(n["interval"], "nemesis.interval"));
  if (n["duration"]) KSIM_SET_OR_RETURN(ns.fault_duration_ns, r.Duration(n["duration"], "nemesis.duration"));
  if (n["start"]) KSIM_SET_OR_RETURN(ns.start_ns, r.Duration(n["start"], "nemesis.start"));
  if (n["stop"]) {
    KSIM_ASSIGN_OR_RETURN(TimeNs stop, r.Duration(n["stop"], "nemesis.stop"));
    ns.stop_ns = stop;
  }
  if (ns.interval_ns <= 0) return r.Error(n["interval"], "nemesis.interval", "must be positive");
  return absl::OkStatus();
}

namespace {

// Keys of the scenario schema that contain a dot, matched as one key even where the file
// does not set them yet (topics.orders.replication.factor=2).
const Keys kDottedKeys = {"replication.factor"};

bool MapHasKey(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return false;
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return true;
  }
  return false;
}

// The list entry `key` names: by name (producers.app, topics.orders), group
// (consumers.billing) or index.
bool FindEntry(const YAML::Node& list, const std::string& key, YAML::Node* out) {
  size_t index;
  for (size_t j = 0; j < list.size(); ++j) {
    YAML::Node e = list[j];
    if ((e.IsMap() && e["name"] && e["name"].IsScalar() && e["name"].Scalar() == key) ||
        (e.IsMap() && e["group"] && e["group"].IsScalar() && e["group"].Scalar() == key) ||
        (absl::SimpleAtoi(key, &index) && index == j)) {
      out->reset(e);
      return true;
    }
  }
  return false;
}

// Splits PATH into segments at dots; `name[3]` gives `name` and `3`.
std::vector<std::string> PathSegments(const std::string& path) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    std::string p(part);
    std::vector<std::string> indexes;
    while (!p.empty() && p.back() == ']') {
      const size_t open = p.rfind('[');
      if (open == std::string::npos) break;
      indexes.insert(indexes.begin(), p.substr(open + 1, p.size() - open - 2));
      p.resize(open);
    }
    if (!p.empty()) out.push_back(std::move(p));
    for (std::string& index : indexes) out.push_back(std::move(index));
  }
  return out;
}

}  // namespace

// PATH=VALUE: dots separate keys; list entries are addressed by their name (producers.app),
// group (consumers.billing) or index (topics.0 or topics[0]); after config./broker-config.
// the rest is one Kafka key. Keys that contain dots (replication.factor, a topic named
// orders.v2) are matched longest first: the longest run of segments that names an existing
// key or entry wins.
absl::Status ApplyOverride(YAML::Node root, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return absl::InvalidArgumentError("expected PATH=VALUE");
  std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad value: ", e.msg));
  }
  const std::vector<std::string> parts = PathSegments(path);
  if (parts.empty()) return absl::InvalidArgumentError("expected PATH=VALUE");
  YAML::Node cur;
  cur.reset(root);
  size_t i = 0;
  while (i < parts.size()) {
    if (cur.IsSequence()) {
      YAML::Node found;
      size_t used = 0;
      for (size_t j = parts.size(); j > i && used == 0; --j) {
        const std::string key = absl::StrJoin(parts.begin() + i, parts.begin() + j, ".");
        if (FindEntry(cur, key, &found)) used = j - i;
      }
      if (used == 0) return absl::InvalidArgumentError(absl::StrCat("no entry named '", parts[i], "'"));
      i += used;
      if (i == parts.size()) return absl::InvalidArgumentError("cannot replace a whole list entry");
      cur.reset(found);
      continue;
    }
    if (cur.IsDefined() && !cur.IsMap() && !cur.IsNull()) {
      return absl::InvalidArgumentError(absl::StrCat("'", parts[i], "' is below a plain value"));
    }
    if (parts[i] == "config" || parts[i] == "broker-config") {
      if (i + 1 == parts.size()) {
        return absl::InvalidArgumentError("name a config key after " + parts[i] + ".");
      }
      YAML::Node m = cur[parts[i]];
      m[absl::StrJoin(parts.begin() + i + 1, parts.end(), ".")] = value;
      return absl::OkStatus();
    }
    // The longest run of segments that is an existing (or a known dotted) key.
    size_t used = 1;
    for (size_t j = parts.size(); j > i + 1; --j) {
      const std::string key = absl::StrJoin(parts.begin() + i, parts.begin() + j, ".");
      if (MapHasKey(cur, key) ||
          std::find(kDottedKeys.begin(), kDottedKeys.end(), key) != kDottedKeys.end()) {
        used = j - i;
        break;
      }
    }
    const std::string key = absl::StrJoin(parts.begin() + i, parts.begin() + i + used, ".");
    i += used;
    if (i == parts.size()) {
      cur[key] = value;
      return absl::OkStatus();
    }
    YAML::Node next = cur[key];
    cur.reset(next);
  }
  return absl::OkStatus();
}

}  // namespace ksim
