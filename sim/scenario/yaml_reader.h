// Reading scenario YAML with located errors: "file:line:col: key.path: message".
#ifndef KSIM_SIM_SCENARIO_YAML_READER_H_
#define KSIM_SIM_SCENARIO_YAML_READER_H_

#include <algorithm>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/config/config_def.h"
#include "engine/runtime/status_macros.h"
#include "sim/scenario/scenario.h"

namespace ksim {

using Keys = std::vector<std::string>;

// Walks a YAML tree, producing errors of the form "file:line:col: path: message".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(const YAML::Node& n, const std::string& path, const std::string& msg) const {
    const YAML::Mark m = n.Mark();
    std::string where = m.is_null() ? file_ : absl::StrCat(file_, ":", m.line + 1, ":", m.column + 1);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", path.empty() ? "" : path + ": ", msg));
  }

  // Every key of map `n` must be one of `allowed`.
  absl::Status CheckKeys(const YAML::Node& n, const std::string& path, const Keys& allowed) const {
    if (!n.IsMap()) return Error(n, path, "expected a mapping (key: value)");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      auto s = ClosestMatch(key, allowed);
      return Error(it->first, Join(path, key),
                   absl::StrCat("unknown key '", key, "'",
                                s ? absl::StrCat("; did you mean '", *s, "'?")
                                  : absl::StrCat(" (expected one of: ", absl::StrJoin(allowed, ", "),
                                                 ")")));
    }
    return absl::OkStatus();
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) return Error(n, path, "expected a single value");
    return n.Scalar();
  }

  absl::StatusOr<int64_t> Int(const YAML::Node& n, const std::string& path, int64_t min,
                              int64_t max) const {
    KSIM_ASSIGN_OR_RETURN(std::string s, Scalar(n, path));
    int64_t v;
    if (!absl::SimpleAtoi(s, &v)) return Error(n, path, "'" + s + "' is not an integer");
    if (v < min || v > max) {
      return Error(n, path, absl::StrCat(v, " is out of range [", min, ", ", max, "]"));
    }
    return v;
  }

  absl::StatusOr<double> Double(const YAML::Node& n, const std::string& path) const {
    KSIM_ASSIGN_OR_RETURN(std::string s, Scalar(n, path));
    double v;
    if (!absl::SimpleAtod(s, &v)) return Error(n, path, "'" + s + "' is not a number");
    return v;
  }

  absl::StatusOr<DurationNs> Duration(const YAML::Node& n, const std::string& path) const {
    KSIM_ASSIGN_OR_RETURN(std::string s, Scalar(n, path));
    auto d = ParseDuration(s);
    if (!d.ok()) return Error(n, path, std::string(d.status().message()));
    return *d;
  }

  absl::StatusOr<int64_t> Size(const YAML::Node& n, const std::string& path) const {
    KSIM_ASSIGN_OR_RETURN(std::string s, Scalar(n, path));
    auto d = ParseSize(s);
    if (!d.ok()) return Error(n, path, std::string(d.status().message()));
    return *d;
  }

  absl::StatusOr<std::vector<std::string>> StringList(const YAML::Node& n,
                                                      const std::string& path) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) return Error(n, path, "expected a list, e.g. [a, b]");
    for (size_t i = 0; i < n.size(); ++i) {
      KSIM_ASSIGN_OR_RETURN(std::string s, Scalar(n[i], absl::StrCat(path, "[", i, "]")));
      out.push_back(s);
    }
    return out;
  }

  // Keys accepted by name whose effect is not modelled yet.
  static bool NotModelled(const std::string& key) {
    static const std::vector<std::string> keys = {
        "log.index.interval.bytes", "index.interval.bytes",
        "message.timestamp.type", "connections.max.idle.ms",
        "key.deserializer",
        "value.deserializer",
        "partitioner.availability.timeout.ms", "retry.backoff.max.ms", "log.roll.hours",
        "segment.ms"};
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }
  mutable std::vector<std::string> notes;

  // Kafka configs by Kafka's own names, validated against `def`.
  absl::StatusOr<ConfigMap> Configs(const YAML::Node& n, const std::string& path,
                                    const ConfigDef& def) const {
    ConfigMap out;
    if (!n.IsMap()) return Error(n, path, "expected a mapping of Kafka configs");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.as<std::string>();
      std::string value;
      if (it->second.IsSequence()) {
        KSIM_ASSIGN_OR_RETURN(auto items, StringList(it->second, Join(path, key)));
        value = absl::StrJoin(items, ",");
      } else {
        KSIM_ASSIGN_OR_RETURN(value, Scalar(it->second, Join(path, key)));
      }
      absl::Status s = def.Validate(key, value);
      if (!s.ok()) {
        return Error(def.Find(key) == nullptr ? it->first : it->second, Join(path, key),
                     std::string(s.message()));
      }
      out[key] = value;
      const bool recompress = key == "compression.type" && &def != &ProducerConfigDef() &&
                              value != "producer";
      if (NotModelled(key) || recompress) {
        const YAML::Mark m = it->first.Mark();
        notes.push_back(absl::StrCat(file_, ":", m.line + 1, ": ", Join(path, key), "=", value,
                                     " is accepted but not modelled yet (no effect)"));
      }
    }
    return out;
  }

 private:
  std::string file_;
};

inline absl::StatusOr<KeySpec> ParseKeySpec(const Reader& r, const YAML::Node& n,
                                     const std::string& path) {
  KSIM_ASSIGN_OR_RETURN(std::string s, r.Scalar(n, path));
  KeySpec k;
  std::string fn = s.substr(0, s.find('('));
  std::vector<std::string> args;
  if (size_t open = s.find('('); open != std::string::npos) {
    if (s.back() != ')') return r.Error(n, path, "missing ')' in '" + s + "'");
    args = absl::StrSplit(s.substr(open + 1, s.size() - open - 2), ',', absl::SkipWhitespace());
  }
  auto bad = [&] {
    return r.Error(n, path,
                   "'" + s + "' is not a key distribution (none, uniform(N), sequential(N), "
                   "zipf(N,S), fixed(KEY))");
  };
  k.kind = fn;
  if (fn == "none" && args.empty()) return k;
  if ((fn == "uniform" || fn == "sequential") && args.size() == 1 &&
      absl::SimpleAtoi(args[0], &k.n) && k.n > 0) {
    return k;
  }
  if (fn == "zipf" && args.size() == 2 && absl::SimpleAtoi(args[0], &k.n) && k.n > 0 &&
      absl::SimpleAtod(args[1], &k.s) && k.s > 0) {
    return k;
  }
  if (fn == "fixed" && args.size() == 1) {
    k.fixed = args[0];
    return k;
  }
  return bad();
}

inline absl::StatusOr<SizeSpec> ParseSizeSpec(const Reader& r, const YAML::Node& n,
                                       const std::string& path) {
  KSIM_ASSIGN_OR_RETURN(std::string s, r.Scalar(n, path));
  SizeSpec out;
  if (s.rfind("uniform(", 0) == 0 && s.back() == ')') {
    std::vector<std::string> args = absl::StrSplit(s.substr(8, s.size() - 9), ',');
    if (args.size() == 2) {
      auto lo = ParseSize(std::string(absl::StripAsciiWhitespace(args[0])));
      auto hi = ParseSize(std::string(absl::StripAsciiWhitespace(args[1])));
      if (lo.ok() && hi.ok() && *lo <= *hi) {
        out.min_bytes = *lo;
        out.max_bytes = *hi;
        return out;
      }
    }
    return r.Error(n, path, "expected uniform(MIN, MAX) with MIN <= MAX, e.g. uniform(10, 1KiB)");
  }
  KSIM_ASSIGN_OR_RETURN(int64_t v, r.Size(n, path));
  out.min_bytes = out.max_bytes = v;
  return out;
}

}  // namespace ksim

#endif  // KSIM_SIM_SCENARIO_YAML_READER_H_
