// Placeholder: replaced when the command lands.
#include "sim/cli/commands.h"

namespace ksim::cli {

int CoordinatorForMain(const Args& args) { return UsageError("coordinator-for: not implemented yet"); }

}  // namespace ksim::cli
