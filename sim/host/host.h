// A simulated machine: the Runtime implementation engine code runs on. It ties one kernel
// node to the simulated network, its own disk and a CPU with a fixed number of cores, and
// gives the node's code named random streams and tracing.
#ifndef KSIM_SIM_HOST_HOST_H_
#define KSIM_SIM_HOST_HOST_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/runtime.h"
#include "sim/disk/disk.h"
#include "sim/kernel/kernel.h"
#include "sim/net/network.h"

namespace ksim {

class Host final : public Runtime {
 public:
  // `disk` may be null for hosts without storage (clients). `cpu_cores` <= 0: no CPU model.
  Host(Kernel& kernel, Network& net, NodeId node, std::unique_ptr<Disk> disk, int cpu_cores);

  NodeId node() const override { return node_; }
  const std::string& node_name() const override { return kernel_.NodeName(node_); }
  TimeNs Now() const override { return kernel_.Now(); }
  void Sleep(DurationNs d) override { ksim::Sleep(d); }
  void SleepUntil(TimeNs t) override { ksim::SleepUntil(t); }
  void Spawn(std::string_view name, std::function<void()> fn) override {
    kernel_.Spawn(node_, name, std::move(fn));
  }
  absl::StatusOr<std::unique_ptr<Connection>> Connect(NodeId peer, TimeNs deadline) override {
    return net_.Connect(node_, peer, deadline);
  }
  absl::StatusOr<std::unique_ptr<Connection>> Accept(TimeNs deadline) override {
    return net_.Accept(node_, deadline);
  }
  NodeId Lookup(std::string_view name) const override;
  FileSystem& fs() override;
  void Compute(DurationNs cpu) override;
  Rng NewRng(std::string_view component) const override;
  void Trace(std::string_view kind, std::string_view detail) override {
    kernel_.Trace(node_, kind, detail);
  }

  Disk* disk() { return disk_.get(); }
  // CPU time consumed so far, for utilisation reports.
  DurationNs cpu_busy_ns() const { return cpu_busy_ns_; }
  // A process restart frees the CPU queue (the work in it died with the process).
  void ResetCpu();

 private:
  Kernel& kernel_;
  Network& net_;
  NodeId node_;
  std::unique_ptr<Disk> disk_;
  std::vector<TimeNs> core_free_at_;
  DurationNs cpu_busy_ns_ = 0;
};

}  // namespace ksim

#endif  // KSIM_SIM_HOST_HOST_H_
