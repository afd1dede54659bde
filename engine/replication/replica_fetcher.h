// A follower's fetcher for one leader broker (Kafka's ReplicaFetcherThread): one fiber that
// repeatedly sends a Fetch for every partition this broker follows on that leader, appends
// what comes back and advances the follower's high watermark. On becoming follower a
// partition first asks the leader where its latest epoch ends (OffsetsForLeaderEpoch) and
// truncates, unless the broker uses the old high-watermark truncation rule.
#ifndef KSIM_ENGINE_REPLICATION_REPLICA_FETCHER_H_
#define KSIM_ENGINE_REPLICATION_REPLICA_FETCHER_H_

#include <functional>
#include <map>
#include <memory>

#include "engine/broker/partition.h"
#include "engine/rpc/rpc_client.h"

namespace ksim {

class ReplicaFetcher {
 public:
  using PartitionLookup = std::function<Partition*(const TopicPartition&)>;

  ReplicaFetcher(Runtime& rt, const BrokerSettings& settings, BrokerId leader,
                 NodeId leader_node, PartitionLookup lookup);
  ~ReplicaFetcher();

  // Starts following `tp` (its Partition must already be a follower of this leader).
  void Add(const TopicPartition& tp);
  void Remove(const TopicPartition& tp);
  bool empty() const { return state_->partitions.empty(); }
  BrokerId leader() const { return leader_; }

 private:
  struct FetchState {
    bool needs_truncation = true;
  };
  struct Shared {
    std::map<TopicPartition, FetchState> partitions;
    Event wakeup;  // reset per loop; set when partitions are added
    bool stopped = false;
  };
  void Loop(std::shared_ptr<Shared> state);
  void Truncate(Shared& state);
  bool FetchOnce(Shared& state);

  Runtime& rt_;
  const BrokerSettings& settings_;
  BrokerId leader_;
  PartitionLookup lookup_;
  RpcClient client_;
  std::shared_ptr<Shared> state_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_REPLICATION_REPLICA_FETCHER_H_
