// Named hardware profiles for broker hosts. Every figure cites where it comes from in
// docs/COST_MODEL.md; scenario files pick one by name and may override fields.
#ifndef KSIM_SIM_SCENARIO_HARDWARE_H_
#define KSIM_SIM_SCENARIO_HARDWARE_H_

#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace ksim {

// nullptr if no profile has that name.
const HardwareProfile* FindHardwareProfile(const std::string& name);
std::vector<std::string> HardwareProfileNames();

}  // namespace ksim

#endif  // KSIM_SIM_SCENARIO_HARDWARE_H_
