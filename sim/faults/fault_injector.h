// Fault injection: the scenario's scripted faults at their times, and a random nemesis that
// draws faults from the seed. Every fault is healed at the end of the workload so liveness can
// be checked. Every applied fault is traced and logged for the report.
#ifndef KSIM_SIM_FAULTS_FAULT_INJECTOR_H_
#define KSIM_SIM_FAULTS_FAULT_INJECTOR_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/cluster/run_result.h"
#include "engine/runtime/sync.h"
#include "sim/kernel/kernel.h"
#include "sim/net/network.h"
#include "sim/scenario/scenario.h"

namespace ksim {

// What faults act on; implemented by the cluster.
class FaultTarget {
 public:
  virtual ~FaultTarget() = default;
  // Node ids for a scenario name: broker-2, app-1, brokers, clients, metadata, all.
  virtual std::vector<NodeId> Resolve(const std::string& name) const = 0;
  virtual std::vector<NodeId> Brokers() const = 0;
  virtual void Crash(NodeId node, bool power_loss) = 0;
  virtual void Restart(NodeId node) = 0;
  virtual void SlowDisk(NodeId node, double factor) = 0;  // 1 = normal
  // Admin: grows `topic` to `count` partitions through the controller (from a fiber).
  virtual void AddPartitions(const std::string& topic, int32_t count) = 0;
  // Admin: deletes `topic` through the controller (from a fiber).
  virtual void DeleteTopic(const std::string& topic) = 0;
  virtual Network& network() = 0;
};

class FaultInjector {
 public:
  FaultInjector(Kernel& kernel, FaultTarget& target, std::vector<AppliedFault>* log);

  // Applies `faults` at their times (a simulator fiber); range faults heal at `to`.
  void Schedule(const std::vector<FaultSpec>& faults);
  // Random faults from the seed between nemesis.start and `stop`.
  // The nemesis waits for `ready` (topics created) before its first fault.
  void StartNemesis(const NemesisSpec& nemesis, TimeNs stop, Event* ready);
  // Heals everything: partitions, delays, throttles, slow disks; restarts crashed brokers and
  // consumer instances.
  void HealAll();
  int faults_applied() const { return applied_; }

 private:
  void Apply(const FaultSpec& f);
  void Heal(const FaultSpec& f, int64_t delay_handle);
  std::vector<NodeId> Nodes(const std::vector<std::string>& names) const;
  std::vector<NodeId> Others(const std::vector<NodeId>& side) const;
  void Log(const std::string& what);
  void NemesisLoop(NemesisSpec spec, TimeNs stop, Event* ready);

  Kernel& kernel_;
  FaultTarget& target_;
  std::vector<AppliedFault>* log_;
  std::set<NodeId> crashed_;
  std::set<NodeId> slow_;
  std::set<NodeId> throttled_;
  std::map<size_t, int64_t> delay_handles_;  // fault index -> network delay handle
  int64_t last_delay_handle_ = -1;
  bool stopped_ = false;
  int applied_ = 0;
};

}  // namespace ksim

#endif  // KSIM_SIM_FAULTS_FAULT_INJECTOR_H_
