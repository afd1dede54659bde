// Wires a whole simulated Kafka deployment from a scenario: the metadata-service node, the
// brokers (each a Host with its own disk, booting a Broker and a controller elector), client
// hosts running the producer and consumer workloads, the fault injector, and the history
// recorder. Run() executes the scenario and returns everything the report needs.
#ifndef KSIM_SIM_CLUSTER_CLUSTER_H_
#define KSIM_SIM_CLUSTER_CLUSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/broker/broker.h"
#include "sim/check/history.h"
#include "sim/cluster/run_result.h"
#include "sim/faults/fault_injector.h"
#include "sim/host/host.h"
#include "sim/kernel/kernel.h"
#include "sim/net/network.h"
#include "sim/scenario/scenario.h"

namespace ksim {

class Workload;

class Cluster final : public FaultTarget {
 public:
  // Called now and then with the virtual time reached, for progress display.
  using ProgressFn = std::function<void(TimeNs now, TimeNs end)>;

  explicit Cluster(const Scenario& scenario);
  ~Cluster() override;

  RunResult Run(const ProgressFn& progress = nullptr);
  // Virtual times at which the admin client describes every topic (kafka-topics --describe)
  // into RunResult::describes. Call before Run().
  void DescribeAt(std::vector<TimeNs> times) { describe_at_ = std::move(times); }

  // FaultTarget.
  std::vector<NodeId> Resolve(const std::string& name) const override;
  std::vector<NodeId> Brokers() const override { return broker_nodes_; }
  void Crash(NodeId node, bool power_loss) override;
  void Restart(NodeId node) override;
  void SlowDisk(NodeId node, double factor) override;
  void AddPartitions(const std::string& topic, int32_t count) override;
  void DeleteTopic(const std::string& topic) override;
  Network& network() override { return *net_; }

  Kernel& kernel() { return *kernel_; }
  History& history() { return history_; }
  // The live Broker object of a broker node, or nullptr while it is down.
  Broker* BrokerAt(NodeId node);
  std::vector<NodeId> BootstrapNodes() const { return broker_nodes_; }
  Host& HostOf(NodeId node) { return *hosts_.at(node); }
  NodeId AddClientNode(const std::string& name);
  RunResult& result() { return result_; }

 private:
  // Sends an admin request to the controller from the admin host until it answers (the
  // controller may be moving) and returns the answer (nullptr if it never did).
  std::shared_ptr<const Response> CallController(const std::shared_ptr<Request>& request);
  void BuildNodes();
  void BootBroker(NodeId node, int32_t broker_id);
  void CreateTopics();
  void FinalRead();
  ClusterDescription Describe();
  void SnapshotReplicas();
  void RunChecks();
  // Tells the history how far retention has deleted every replica's log, and lets it retire
  // what can no longer matter (main context, between kernel steps: no simulated event).
  void ObserveRetention();

  Scenario sc_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<Network> net_;
  std::map<NodeId, std::unique_ptr<Host>> hosts_;
  std::map<NodeId, std::weak_ptr<Broker>> brokers_;
  std::map<NodeId, std::shared_ptr<void>> controllers_;
  NodeId metadata_node_ = kNoNode;
  NodeId admin_node_ = kNoNode;
  std::vector<NodeId> broker_nodes_;
  std::vector<NodeId> client_nodes_;
  std::unique_ptr<FaultInjector> faults_;
  std::unique_ptr<Workload> workload_;
  History history_;
  // Topics deleted by a delete-topic action, with the time the controller confirmed it.
  std::vector<std::pair<TimeNs, std::string>> topic_deletions_;
  std::map<NodeId, int32_t> broker_boots_;  // times each broker node has booted
  RunResult result_;
  std::vector<TimeNs> describe_at_;
  bool topics_ready_ = false;
};

}  // namespace ksim

#endif  // KSIM_SIM_CLUSTER_CLUSTER_H_
