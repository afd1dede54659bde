// ksim: deterministic simulator of Apache Kafka clusters. Dispatches to subcommands.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/config/config_def.h"
#include "sim/cli/commands.h"

namespace ksim::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run", "run a scenario file and check the history", RunMain},
      {"sweep", "run a scenario over many seeds / parameter grids in parallel", SweepMain},
      {"validate", "check a scenario file without running it", ValidateMain},
      {"demo", "run a small kernel demo: nodes exchanging messages through crashes", DemoMain},
      {"partition-for", "print the partition Kafka's default partitioner picks for keys",
       PartitionForMain},
      {"coordinator-for", "print the __consumer_offsets partition (coordinator) of groups",
       CoordinatorForMain},
      {"assign", "print the assignment a consumer group would get from an assignor", AssignMain},
  };
  return commands;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "ksim: %s\n", message.c_str());
  return 2;
}

namespace {

void PrintHelp() {
  std::printf(
      "ksim - deterministic discrete-event simulator of Apache Kafka clusters\n\n"
      "usage: ksim COMMAND [ARGS...]\n       ksim COMMAND --help\n\ncommands:\n");
  for (const Command& c : Commands()) std::printf("  %-16s %s\n", c.name, c.summary);
  std::printf(
      "\nexit codes: 0 all checks hold, 1 a check failed, 2 bad input\n");
}

}  // namespace
}  // namespace ksim::cli

int main(int argc, char** argv) {
  using namespace ksim::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    PrintHelp();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  Args args(argv + 2, argv + argc);
  for (const Command& c : Commands()) {
    if (name == c.name) return c.main(args);
  }
  std::vector<std::string> names;
  for (const Command& c : Commands()) names.push_back(c.name);
  const std::string suggestion = ksim::ClosestMatch(name, names).value_or("");
  return UsageError("unknown command '" + name + "'" +
                    (suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?") +
                    " (see ksim --help)");
}
