// A Kafka broker node: recovers its logs from disk, serves Produce / Fetch / ListOffsets /
// Metadata / OffsetsForLeaderEpoch / InitProducerId, applies the controller's LeaderAndIsr,
// UpdateMetadata and StopReplica, runs follower fetchers, keeps the ISR (AlterPartition to
// the controller), checkpoints high watermarks, and registers with the metadata service where
// it also competes to be the controller.
#ifndef KSIM_ENGINE_BROKER_BROKER_H_
#define KSIM_ENGINE_BROKER_BROKER_H_

#include <map>
#include <set>
#include <memory>
#include <string>

#include "engine/broker/broker_config.h"
#include "engine/broker/metadata_cache.h"
#include "engine/broker/partition.h"
#include "engine/metastore/metastore_client.h"
#include "engine/replication/replica_fetcher.h"
#include "engine/rpc/rpc_server.h"
#include "engine/runtime/sync.h"

namespace ksim {

// Handles requests that only the controller answers (CreateTopics, AlterPartition, ...).
// Installed by the controller component; returns nullptr when this broker is not controller.
using ControllerHandler = std::function<std::shared_ptr<Response>(const RequestPtr&)>;

class Broker {
 public:
  Broker(Runtime& rt, BrokerSettings settings, NodeId metastore_node);
  ~Broker();

  // Boots: log recovery, serving, registration, controller election. Spawns the broker's
  // fibers and returns.
  void Start();

  BrokerId id() const { return settings_.broker_id; }
  const BrokerSettings& settings() const { return settings_; }
  const MetadataCache& metadata() const { return metadata_; }
  Partition* FindPartition(const TopicPartition& tp);
  // How many StopReplica requests with deletion this broker has served for `topic` (the
  // simulator waits on it to date a topic deletion).
  int32_t TopicDeletions(const std::string& topic) const {
    auto it = topic_deletions_.find(topic);
    return it == topic_deletions_.end() ? 0 : it->second;
  }
  const std::map<TopicPartition, std::unique_ptr<Partition>>& partitions() const {
    return partitions_;
  }
  MetaStoreClient& metastore() { return *metastore_; }
  // Receives every watch event of this broker's metadata-service session.
  void AddWatchListener(std::function<void(const WatchEvent&)> l) {
    watch_listeners_.push_back(std::move(l));
  }
  Runtime& runtime() { return rt_; }
  // Runs after the broker registered with the metadata service (the wiring starts the
  // controller elector here), and again after every session re-registration.
  void set_on_registered(std::function<void()> f) { on_registered_ = std::move(f); }
  // The controller component installs its request handler here when elected.
  void set_controller_handler(ControllerHandler h) { controller_handler_ = std::move(h); }
  bool is_controller() const { return controller_handler_ != nullptr; }
  // Sends an admin request to the controller (this broker's own, or over the network) from a
  // new fiber, then calls `done`.
  void SubmitToController(std::shared_ptr<Request> request, std::function<void()> done);
  // The group coordinator installs its handler for group APIs (FindCoordinator, JoinGroup,
  // ...); it returns nullptr for requests it does not handle.
  void set_group_handler(ControllerHandler h) { group_handler_ = std::move(h); }
  // Told the topics an UpdateMetadata deleted (the group coordinator drops their offsets).
  void set_on_topics_deleted(std::function<void(const std::vector<std::string>&)> f) {
    on_topics_deleted_ = std::move(f);
  }
  // Requests handled, and the time they spent queued for a free network / I/O thread.
  int64_t requests_handled() const { return requests_handled_; }
  DurationNs thread_wait_ns() const { return thread_wait_ns_; }

  // Directory of a partition's log on this broker's disk.
  static std::string LogDir(const TopicPartition& tp);

 private:
  std::shared_ptr<Response> Dispatch(const RequestPtr& request, NodeId from);
  void RetentionLoop();
  std::shared_ptr<Response> Handle(const RequestPtr& request, NodeId from);
  std::shared_ptr<Response> HandleProduce(const ProduceRequest& r);
  std::shared_ptr<Response> HandleFetch(const FetchRequest& r);
  std::shared_ptr<Response> HandleListOffsets(const ListOffsetsRequest& r);
  std::shared_ptr<Response> HandleMetadata(const MetadataRequest& r);
  std::shared_ptr<Response> HandleOffsetsForLeaderEpoch(const OffsetsForLeaderEpochRequest& r);
  std::shared_ptr<Response> HandleInitProducerId(const InitProducerIdRequest& r);
  std::shared_ptr<Response> HandleLeaderAndIsr(const LeaderAndIsrRequest& r);
  std::shared_ptr<Response> HandleUpdateMetadata(const UpdateMetadataRequest& r);
  std::shared_ptr<Response> HandleStopReplica(const StopReplicaRequest& r);
  std::shared_ptr<Response> ForwardToController(const RequestPtr& r);

  void RecoverLogs();
  Partition* GetOrCreatePartition(const TopicPartition& tp, const TopicSettings& settings);
  void Follow(Partition* p);
  void Unfollow(const TopicPartition& tp);
  void Register();
  void IsrLoop();
  void CheckpointLoop();
  // Kafka's flush of rolled segments (scheduled after every roll) and the periodic recovery
  // point checkpoint (log.flush.offset.checkpoint.interval.ms).
  void FlushLoop();
  void MaybeAutoCreate(const std::vector<std::string>& topics);

  Runtime& rt_;
  BrokerSettings settings_;
  Semaphore network_threads_;  // num.network.threads
  Semaphore io_threads_;       // num.io.threads
  int64_t requests_handled_ = 0;
  DurationNs thread_wait_ns_ = 0;
  NodeId metastore_node_;
  RpcServer server_;
  MetadataCache metadata_;
  std::unique_ptr<MetaStoreClient> metastore_;
  std::map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<Partition>> deleted_partitions_;  // kept: fibers may be inside
  std::function<void(const std::vector<std::string>&)> on_topics_deleted_;
  std::map<std::string, int32_t> topic_deletions_;
  std::map<std::string, std::map<std::string, std::string>> topic_configs_;
  // Follower fetchers by (source broker, fetcher id): num.replica.fetchers per source broker.
  std::map<std::pair<BrokerId, int32_t>, std::unique_ptr<ReplicaFetcher>> fetchers_;
  std::map<TopicPartition, std::pair<BrokerId, int32_t>> following_;  // -> its fetcher
  std::unique_ptr<RpcClient> controller_client_;
  BrokerId controller_client_for_ = kNoBroker;
  ControllerHandler controller_handler_;
  ControllerHandler group_handler_;
  std::function<void()> on_registered_;
  std::map<BrokerId, BrokerInfo> known_brokers_;
  std::vector<std::function<void(const WatchEvent&)>> watch_listeners_;
  WaitList any_data_;
  int64_t next_producer_id_ = 0;
  int32_t controller_epoch_seen_ = -1;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_BROKER_H_
