// Placeholder: replaced when the command lands.
#include "sim/cli/commands.h"

namespace ksim::cli {

int AssignMain(const Args& args) { return UsageError("assign: not implemented yet"); }

}  // namespace ksim::cli
