// Placeholder: replaced when the command lands.
#include "sim/cli/commands.h"

namespace ksim::cli {

int PartitionForMain(const Args& args) { return UsageError("partition-for: not implemented yet"); }

}  // namespace ksim::cli
