// The controller (Kafka's ZooKeeper-mode KafkaController): one broker, elected through the
// metadata service, owns partition leadership. It watches broker registrations; when a broker
// dies it elects new leaders from the ISR in assignment order (or, with
// unclean.leader.election.enable, any live replica), bumps leader epochs, and tells the
// brokers with LeaderAndIsr and UpdateMetadata. It also serves AlterPartition (ISR changes from
// leaders), CreateTopics / DeleteTopics / CreatePartitions, and moves leadership back to
// preferred replicas (auto.leader.rebalance.enable).
//
// Like Kafka's ControllerEventManager, all state changes run in one fiber fed by a queue.
#ifndef KSIM_ENGINE_CONTROLLER_CONTROLLER_H_
#define KSIM_ENGINE_CONTROLLER_CONTROLLER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/broker/broker.h"
#include "engine/broker/znode_payloads.h"
#include "engine/config/config_def.h"

namespace ksim {

inline constexpr const char* kDeleteTopicsPath = "/admin/delete_topics";

struct ControllerConfig {
  bool unclean_leader_election = false;
  bool auto_leader_rebalance = true;
  DurationNs imbalance_check_interval_ns = 300 * kSecond;
  int32_t imbalance_percentage = 10;
  int32_t default_replication_factor = 1;
  int32_t num_partitions = 1;
  bool delete_topic_enable = true;
};
ControllerConfig ControllerConfigFrom(const Config& broker_config);

// Pure election rules, for tests and the controller.
// Clean: the first replica in assignment order that is alive and in the ISR.
BrokerId ElectLeader(const std::vector<BrokerId>& replicas, const std::vector<BrokerId>& isr,
                     const std::function<bool(BrokerId)>& alive, bool unclean, bool* was_unclean);
// Kafka's rack-unaware assignReplicasToBrokers with the given start index and shift.
std::map<int32_t, std::vector<BrokerId>> AssignReplicas(const std::vector<BrokerId>& brokers,
                                                        int32_t partitions, int32_t rf,
                                                        int32_t start_index, int32_t shift,
                                                        int32_t first_partition = 0);
// Kafka's getRackAlternatedBrokerList: racks in name order, each rack's brokers in id order,
// one broker taken from each rack in turn ({0:r1, 1:r3, 2:r3, 3:r2, 4:r2, 5:r1} -> 0,3,1,5,4,2).
std::vector<BrokerId> RackAlternatedBrokerList(const std::map<BrokerId, std::string>& rack_of);
// Kafka's assignReplicasToBrokersRackAware: first replicas round-robin over the rack-alternated
// list from start_index; followers walk that list with the shift (times the rack count),
// skipping a broker whose rack already holds a replica while some rack holds none, and a broker
// already chosen. Every broker in rack_of must have a rack.
std::map<int32_t, std::vector<BrokerId>> AssignReplicasRackAware(
    const std::map<BrokerId, std::string>& rack_of, int32_t partitions, int32_t rf,
    int32_t start_index, int32_t shift, int32_t first_partition = 0);

// Kafka's RackAwareMode: kEnforced fails when only some brokers have a rack, kSafe then ignores
// racks (auto topic creation), kDisabled always ignores them (--disable-rack-aware).
enum class RackAwareMode { kDisabled, kEnforced, kSafe };
// Kafka's AdminUtils.assignReplicasToBrokers: brokers maps each broker id to its rack ("" for
// none); rack-aware when every broker has a rack, rack-unaware when none has. When only some
// have one, kEnforced gives Kafka's AdminOperationException as a FailedPrecondition error. The
// caller checks 1 <= rf <= brokers.size() and partitions >= 1.
absl::StatusOr<std::map<int32_t, std::vector<BrokerId>>> AssignReplicasToBrokers(
    const std::map<BrokerId, std::string>& brokers, int32_t partitions, int32_t rf,
    int32_t start_index, int32_t shift, int32_t first_partition = 0,
    RackAwareMode mode = RackAwareMode::kEnforced);

class Controller {
 public:
  Controller(Broker& broker, ControllerConfig config, int32_t epoch);
  ~Controller();
  void Start();
  // Stops reacting to anything; the object stays valid for fibers still inside it.
  void Stop();
  // Serves controller-only requests; nullptr for others.
  std::shared_ptr<Response> Handle(const RequestPtr& request);
  void OnWatch(const WatchEvent& e);
  int32_t epoch() const { return epoch_; }
  // kafka-topics --describe style listing.
  std::string DescribeTopics() const;

 private:
  struct PartitionInfo {
    PartitionState state;
    int32_t version = 0;  // znode version (partition epoch)
  };
  struct TopicInfo {
    std::map<int32_t, std::vector<BrokerId>> replicas;
    std::map<std::string, std::string> configs;
  };
  struct BrokerChannel;  // per broker request queue

  void Run(std::shared_ptr<bool> alive);
  void Post(std::function<void()> event);
  void LoadState();
  void RefreshBrokers();
  void OnBrokersFailed(const std::vector<BrokerId>& dead);
  void OnBrokersStarted(const std::vector<BrokerId>& started);
  bool ElectFor(const TopicPartition& tp, const std::vector<BrokerId>& excluded);
  bool WriteState(const TopicPartition& tp, PartitionState st);
  bool InitPartition(const TopicPartition& tp, const std::vector<BrokerId>& replicas);
  void SendLeaderAndIsr(const std::vector<TopicPartition>& tps);
  void SendUpdateMetadata(const std::vector<TopicPartition>& tps);
  void SendTo(BrokerId b, std::shared_ptr<Request> r);
  bool Unclean(const std::string& topic) const;
  bool Alive(BrokerId b) const { return live_.count(b) > 0; }
  std::shared_ptr<Response> CreateTopics(const CreateTopicsRequest& r);
  std::shared_ptr<Response> DeleteTopics(const DeleteTopicsRequest& r);
  std::shared_ptr<Response> CreatePartitions(const CreatePartitionsRequest& r);
  void SendStopReplicaDelete(BrokerId b, const std::string& topic,
                             const std::vector<int32_t>& partitions);
  // Deletes the replicas of deleted topics that were on `started` brokers while they were down.
  void DeletePendingReplicas(const std::vector<BrokerId>& started);
  // A broker confirmed it deleted its replicas of `topic`.
  void ReplicaDeleted(const std::string& topic, BrokerId b);
  std::shared_ptr<Response> AlterPartition(const AlterPartitionRequest& r);
  void PreferredElection();
  std::string PartitionPath(const TopicPartition& tp) const;

  Broker& broker_;
  Runtime& rt_;
  MetaStoreClient& meta_;
  ControllerConfig config_;
  int32_t epoch_;
  Rng rng_;
  std::map<BrokerId, BrokerInfo> live_;
  std::map<BrokerId, int64_t> registrations_;
  std::map<std::string, TopicInfo> topics_;
  std::map<TopicPartition, PartitionInfo> partitions_;
  // Deleted topics whose replicas on down brokers are still to delete (broker -> partitions).
  std::map<std::string, std::map<BrokerId, std::vector<int32_t>>> pending_deletions_;
  std::map<BrokerId, std::shared_ptr<BrokerChannel>> channels_;
  ksim::Channel<std::function<void()>> events_;
  std::shared_ptr<bool> alive_;
};

// Every broker runs one: it competes for /controller and runs the Controller while it holds it.
class ControllerElector {
 public:
  ControllerElector(Broker& broker, ControllerConfig config);
  ~ControllerElector();
  // Called after each registration of the broker (a new session): (re)joins the election.
  void Start();
  Controller* controller() { return controller_.get(); }

 private:
  void TryElect();
  Broker& broker_;
  ControllerConfig config_;
  std::unique_ptr<Controller> controller_;
  // Controllers of earlier sessions: stopped, kept until the node dies because their fibers
  // may still be returning from blocking calls into them.
  std::vector<std::unique_ptr<Controller>> retired_;
  bool listening_ = false;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CONTROLLER_CONTROLLER_H_
