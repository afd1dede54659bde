#include "sim/host/host.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

Host::Host(Kernel& kernel, Network& net, NodeId node, std::unique_ptr<Disk> disk, int cpu_cores)
    : kernel_(kernel), net_(net), node_(node), disk_(std::move(disk)),
      core_free_at_(static_cast<size_t>(std::max(cpu_cores, 0)), 0) {}

NodeId Host::Lookup(std::string_view name) const {
  for (size_t n = 0; n < kernel_.node_count(); ++n) {
    if (kernel_.NodeName(static_cast<NodeId>(n)) == name) return static_cast<NodeId>(n);
  }
  return kNoNode;
}

FileSystem& Host::fs() {
  KSIM_CHECK_MSG(disk_ != nullptr, "this host has no disk: " + node_name());
  return *disk_;
}

void Host::Compute(DurationNs cpu) {
  KSIM_CHECK(cpu >= 0);
  if (cpu == 0) return;
  if (core_free_at_.empty()) {
    Sleep(cpu);
    return;
  }
  // The least busy core takes the work (FIFO per core).
  auto core = std::min_element(core_free_at_.begin(), core_free_at_.end());
  const TimeNs start = std::max(*core, Now());
  *core = start + cpu;
  cpu_busy_ns_ += cpu;
  SleepUntil(*core);
}

Rng Host::NewRng(std::string_view component) const {
  return kernel_.Stream(absl::StrCat(node_name(), "#", kernel_.Incarnation(node_), "/", std::string(component)));
}

void Host::ResetCpu() { std::fill(core_free_at_.begin(), core_free_at_.end(), Now()); }

}  // namespace ksim
