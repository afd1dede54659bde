// A client's view of the cluster (Kafka's Metadata + ManualMetadataUpdater): which broker
// leads each partition, refreshed from any reachable broker when a request fails with a
// metadata error, when a topic is first used, and every metadata.max.age.ms.
#ifndef KSIM_ENGINE_CLIENT_CLIENT_METADATA_H_
#define KSIM_ENGINE_CLIENT_CLIENT_METADATA_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/protocol/messages.h"
#include "engine/rpc/rpc_client.h"
#include "engine/runtime/sync.h"

namespace ksim {

class ClientMetadata {
 public:
  ClientMetadata(Runtime& rt, std::vector<NodeId> bootstrap, std::string client_id,
                 DurationNs max_age_ns, DurationNs refresh_backoff_ns);

  // Topics whose metadata the client keeps.
  void AddTopic(const std::string& topic);
  // Fetch metadata of every topic (pattern subscriptions).
  void WantAllTopics() { want_all_ = true; }
  // Whether metadata requests may auto-create topics (clients: yes; admin tools: no).
  void set_allow_auto_create(bool allow) { allow_auto_create_ = allow; }
  std::vector<std::string> AllTopics() const;
  // Marks the metadata stale; the next Refresh() or WaitFor...() fetches it.
  void RequestUpdate() { update_requested_ = true; }
  // Fetches metadata from a broker (rotating through known brokers on failure). Returns
  // whether an answer arrived before `deadline`.
  bool Refresh(TimeNs deadline);
  // Refreshes if requested, stale or missing; cheap otherwise.
  void MaybeRefresh(TimeNs deadline);
  // Blocks until `topic` has metadata with at least one partition, or `deadline`.
  absl::StatusOr<int32_t> WaitForTopic(const std::string& topic, TimeNs deadline);

  int32_t PartitionCount(const std::string& topic) const;
  // Leader of a partition, kNoBroker if unknown or offline.
  BrokerId Leader(const TopicPartition& tp) const;
  int32_t LeaderEpoch(const TopicPartition& tp) const;
  NodeId NodeOf(BrokerId broker) const;
  // Partitions of `topic` whose leader is known.
  std::vector<int32_t> AvailablePartitions(const std::string& topic) const;
  const std::map<BrokerId, BrokerInfo>& brokers() const { return brokers_; }
  BrokerId controller() const { return controller_; }
  uint64_t version() const { return version_; }

 private:
  const PartitionMetadata* Find(const TopicPartition& tp) const;

  Runtime& rt_;
  std::vector<NodeId> bootstrap_;
  std::string client_id_;
  DurationNs max_age_ns_;
  DurationNs refresh_backoff_ns_;
  std::set<std::string> topics_;
  std::map<std::string, std::vector<PartitionMetadata>> partitions_;
  std::map<BrokerId, BrokerInfo> brokers_;
  BrokerId controller_ = kNoBroker;
  std::map<NodeId, std::unique_ptr<RpcClient>> clients_;
  size_t next_node_ = 0;
  TimeNs last_refresh_ = -1;
  bool update_requested_ = true;
  bool want_all_ = false;
  bool allow_auto_create_ = true;
  uint64_t version_ = 0;
  Mutex refresh_mu_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_CLIENT_METADATA_H_
