// The ksim subcommands. Each lives in its own file and returns the process exit code:
// 0 success (all checks hold), 1 a check failed, 2 bad input.
#ifndef KSIM_SIM_CLI_COMMANDS_H_
#define KSIM_SIM_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace ksim::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;  // one line for `ksim --help`
  int (*main)(const Args& args);
};

// Registered commands, in help order.
const std::vector<Command>& Commands();

int DemoMain(const Args& args);
int RunMain(const Args& args);
int SweepMain(const Args& args);
int ValidateMain(const Args& args);
int PartitionForMain(const Args& args);
int CoordinatorForMain(const Args& args);
int AssignMain(const Args& args);

// Prints "ksim: <message>" to stderr and returns 2 (bad input).
int UsageError(const std::string& message);

}  // namespace ksim::cli

#endif  // KSIM_SIM_CLI_COMMANDS_H_
