// `ksim coordinator-for [--offsets-partitions N] [--json] GROUP...`: which __consumer_offsets
// partition (and so which broker, its leader) coordinates each group.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "engine/config/config_def.h"
#include "engine/coordinator/coordinator_for.h"
#include "sim/cli/commands.h"

namespace ksim::cli {

int CoordinatorForMain(const Args& args) {
  int32_t partitions = 50;
  bool json = false;
  std::vector<std::string> groups;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.empty() || a[0] != '-' || a == "-") {
      groups.push_back(a);
    } else if (a == "--") {
      options_done = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: ksim coordinator-for [--offsets-partitions N] [--json] [--] GROUP...\n\n"
          "Prints each group's Java String.hashCode and its coordinator partition\n"
          "abs(hashCode) %% N of __consumer_offsets (N = offsets.topic.num.partitions,\n"
          "default 50; Kafka's abs maps Integer.MIN_VALUE to 0).\n");
      return 0;
    } else if (a == "--offsets-partitions") {
      if (i + 1 >= args.size() || !absl::SimpleAtoi(args[i + 1], &partitions) ||
          partitions <= 0) {
        return UsageError("--offsets-partitions needs a positive number");
      }
      ++i;
    } else if (a == "--json") {
      json = true;
    } else {
      auto s = ClosestMatch(a, {"--offsets-partitions", "--json", "--help"});
      return UsageError("coordinator-for: unknown option '" + a + "'" +
                        (s ? "; did you mean '" + *s + "'?" : std::string()));
    }
  }
  if (groups.empty()) return UsageError("coordinator-for: give at least one GROUP");
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& g : groups) {
      out.push_back({{"group", g},
                     {"hash", JavaStringHashCode(g)},
                     {"partition", CoordinatorPartition(g, partitions)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  size_t width = 5;
  for (const std::string& g : groups) width = std::max(width, g.size());
  std::printf("%-*s %12s %10s\n", static_cast<int>(width), "group", "hashCode", "partition");
  for (const std::string& g : groups) {
    std::printf("%-*s %12d %10d\n", static_cast<int>(width), g.c_str(), JavaStringHashCode(g),
                CoordinatorPartition(g, partitions));
  }
  return 0;
}

}  // namespace ksim::cli
