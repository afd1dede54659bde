// `ksim assign --strategy NAME --topic NAME=PARTITIONS... --member ID=TOPIC[,TOPIC...]...
// [--json]`: the assignment a fresh group would get from an assignor.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/client/consumer/assignor.h"
#include "engine/config/config_def.h"
#include "sim/cli/commands.h"

namespace ksim::cli {

int AssignMain(const Args& args) {
  std::string strategy;
  bool json = false;
  std::map<std::string, int32_t> topics;
  std::map<MemberId, Subscription> members;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: ksim assign --strategy NAME --topic NAME=PARTITIONS... \\\n"
          "                   --member ID=TOPIC[,TOPIC...]... [--json]\n\n"
          "Prints the assignment a fresh group would get. Strategies: range, roundrobin,\n"
          "sticky, cooperative-sticky (or Java class names). --json prints\n"
          "{\"MEMBER\": {\"TOPIC\": [partitions...]}} with every member present.\n");
      return 0;
    } else if (a == "--strategy") {
      auto v = value();
      if (!v) return UsageError("--strategy needs a name");
      strategy = *v;
    } else if (a == "--topic") {
      auto v = value();
      size_t eq = v ? v->find('=') : std::string::npos;
      int32_t n = 0;
      if (!v || eq == std::string::npos || !absl::SimpleAtoi(v->substr(eq + 1), &n) || n <= 0) {
        return UsageError("--topic needs NAME=PARTITIONS with PARTITIONS > 0, e.g. --topic orders=6");
      }
      topics[v->substr(0, eq)] = n;
    } else if (a == "--member") {
      auto v = value();
      size_t eq = v ? v->find('=') : std::string::npos;
      if (!v || eq == std::string::npos || eq == 0 || eq + 1 == v->size()) {
        return UsageError("--member needs ID=TOPIC[,TOPIC...], e.g. --member c1=orders,payments");
      }
      Subscription s;
      s.topics = absl::StrSplit(v->substr(eq + 1), ',', absl::SkipEmpty());
      members[v->substr(0, eq)] = s;
    } else if (a == "--json") {
      json = true;
    } else {
      auto s = ClosestMatch(a, {"--strategy", "--topic", "--member", "--json", "--help"});
      return UsageError("assign: unknown option '" + a + "'" +
                        (s ? "; did you mean '" + *s + "'?" : std::string()));
    }
  }
  if (strategy.empty()) return UsageError("assign: --strategy is required");
  const Assignor* assignor = FindAssignor(strategy);
  if (assignor == nullptr) {
    auto s = ClosestMatch(strategy, AssignorNames());
    return UsageError("assign: unknown strategy '" + strategy + "'" +
                      (s ? "; did you mean '" + *s + "'?" : std::string()));
  }
  if (members.empty()) return UsageError("assign: give at least one --member");
  for (const auto& [m, s] : members) {
    for (const std::string& t : s.topics) {
      if (topics.count(t) == 0) {
        return UsageError("assign: member " + m + " subscribes to '" + t +
                          "', which has no --topic " + t + "=PARTITIONS");
      }
    }
  }
  auto result = assignor->Assign(topics, members);
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [m, a] : result) {
      nlohmann::json per = nlohmann::json::object();
      for (const TopicPartition& tp : a.partitions) per[tp.topic].push_back(tp.partition);
      out[m] = per;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("strategy %s\n", assignor->name().c_str());
  for (const auto& [m, a] : result) {
    std::vector<std::string> parts;
    for (const TopicPartition& tp : a.partitions) parts.push_back(tp.ToString());
    std::printf("  %-20s %s\n", m.c_str(), parts.empty() ? "(nothing)" : absl::StrJoin(parts, " ").c_str());
  }
  return 0;
}

}  // namespace ksim::cli
