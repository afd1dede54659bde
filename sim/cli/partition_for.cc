// `ksim partition-for --partitions N [--json] KEY...`: the partition Kafka's default
// partitioner gives each key (toPositive(murmur2(key)) % N), bit-compatible with Java.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "engine/client/producer/murmur2.h"
#include "engine/config/config_def.h"
#include "sim/cli/commands.h"

namespace ksim::cli {

int PartitionForMain(const Args& args) {
  int32_t partitions = -1;
  bool json = false;
  std::vector<std::string> keys;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.empty() || a[0] != '-' || a == "-") {
      keys.push_back(a);
    } else if (a == "--") {
      options_done = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: ksim partition-for --partitions N [--json] [--] KEY...\n\n"
          "Prints each key's murmur2 hash (as Java's signed int) and the partition Kafka's\n"
          "default partitioner picks: toPositive(murmur2(utf8(key))) %% N. Use -- before keys\n"
          "that start with '-'. The empty key \"\" is allowed.\n");
      return 0;
    } else if (a == "--partitions" || a.rfind("--partitions=", 0) == 0) {
      std::string v;
      if (a == "--partitions") {
        if (i + 1 >= args.size()) return UsageError("--partitions needs a number");
        v = args[++i];
      } else {
        v = a.substr(13);
      }
      if (!absl::SimpleAtoi(v, &partitions) || partitions <= 0) {
        return UsageError("--partitions: '" + v + "' is not a positive number");
      }
    } else if (a == "--json") {
      json = true;
    } else {
      auto s = ClosestMatch(a, {"--partitions", "--json", "--help"});
      return UsageError("partition-for: unknown option '" + a + "'" +
                        (s ? "; did you mean '" + *s + "'?" : std::string()));
    }
  }
  if (partitions <= 0) return UsageError("partition-for: --partitions N is required");
  if (keys.empty()) return UsageError("partition-for: give at least one KEY");
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& k : keys) {
      const int32_t h = Murmur2(k);
      out.push_back({{"key", k}, {"murmur2", h}, {"partition", ToPositive(h) % partitions}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  size_t width = 3;
  for (const std::string& k : keys) width = std::max(width, k.size());
  std::printf("%-*s %12s %10s\n", static_cast<int>(width), "key", "murmur2", "partition");
  for (const std::string& k : keys) {
    const int32_t h = Murmur2(k);
    std::printf("%-*s %12d %10d\n", static_cast<int>(width), k.c_str(), h,
                ToPositive(h) % partitions);
  }
  return 0;
}

}  // namespace ksim::cli
