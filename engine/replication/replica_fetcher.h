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

// Which of a source broker's num.replica.fetchers fetchers follows `tp` (Kafka's
// AbstractFetcherManager.getFetcherId: abs(31 * topic.hashCode() + partition) % fetchers).
int32_t FetcherId(const TopicPartition& tp, int32_t fetchers);

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
  // Ends the fiber at its next step; the object may be dropped right after.
  void Stop() {
    state_->stopped = true;
    state_->wakeup.Set();
  }
  BrokerId leader() const { return leader_; }

 private:
  struct FetchState {
    bool needs_truncation = true;
  };
  // Everything the fetcher fiber uses, kept alive by the fiber itself: a fetcher removed while
  // its request is in flight must not leave the fiber inside a destroyed object.
  struct Shared {
    Shared(Runtime& rt, const BrokerSettings& s, NodeId node, PartitionLookup l);
    Runtime& rt;
    const BrokerSettings& settings;
    PartitionLookup lookup;
    RpcClient client;
    std::map<TopicPartition, FetchState> partitions;
    Event wakeup;  // reset per loop; set when partitions are added
    bool stopped = false;
  };
  static void Loop(std::shared_ptr<Shared> state);
  static void Truncate(Shared& state);
  static bool FetchOnce(Shared& state);

  BrokerId leader_;
  std::shared_ptr<Shared> state_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_REPLICATION_REPLICA_FETCHER_H_
