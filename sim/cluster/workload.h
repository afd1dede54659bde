// The client side of a scenario: producer instances on their own client hosts sending
// records at the configured rate with the configured keys and sizes, and the history
// recorder that notes every send and completion, every poll and commit. Consumer instances
// run on their own client hosts too: one consumer per instance, processing in the polling
// fiber (consumer-per-fiber) or in a pool of worker fibers (worker-pool). A crashed consumer
// host comes back as a fresh consumer with the same client.id, which rejoins its group.
#ifndef KSIM_SIM_CLUSTER_WORKLOAD_H_
#define KSIM_SIM_CLUSTER_WORKLOAD_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/client/consumer/kafka_consumer.h"
#include "engine/client/producer/kafka_producer.h"
#include "engine/runtime/sync.h"
#include "sim/check/history.h"
#include "sim/cluster/run_result.h"
#include "sim/scenario/scenario.h"

namespace ksim {

class Cluster;

class Workload final : public ProducerObserver, public ConsumerObserver {
 public:
  Workload(Cluster& cluster, const Scenario& sc);

  // Starts every producer once `ready` is set (topics exist), until `stop` virtual time.
  void Start(Event* ready, TimeNs stop);
  // Asks producers to stop sending and close (flushing for up to `close_timeout`).
  void Stop(DurationNs close_timeout);
  bool producers_done() const { return running_producers_ == 0; }
  // Consumers keep consuming through the settle period; this makes them commit and leave.
  void StopConsumers() { consumers_stopping_ = true; }

  // ProducerObserver.
  void OnSend(const std::string& client_id, const SimRecord& r) override;
  void OnComplete(const std::string& client_id, const SimRecord& r, const SendResult& result,
                  bool acks_zero) override;
  // ConsumerObserver.
  void OnPoll(const std::string& consumer, const std::string& group, int32_t generation,
              const ConsumerRecord& r) override;
  void OnCommit(const std::string& consumer, const std::string& group, int32_t generation,
                const TopicPartition& tp, int64_t offset, bool ok) override;
  void OnAssignment(const std::string& consumer, const std::string& group, int32_t generation,
                    const std::vector<TopicPartition>& parts) override;

 private:
  struct Instance {
    std::string name;
    const ProducerSpec* spec = nullptr;
    NodeId node = kNoNode;
  };
  struct ConsumerInstance {
    std::string name;
    const ConsumerSpec* spec = nullptr;
    NodeId node = kNoNode;
  };
  void RunProducer(const Instance& inst, Event* ready, TimeNs stop);
  struct OpenRebalance {
    size_t index = 0;              // into RunResult::rebalances
    int32_t after_generation = -1;  // the group's generation when the member crashed
    size_t partitions = 0;          // of the group's subscription
    std::set<TopicPartition> assigned;  // in the completing generation so far
    bool done = false;              // every partition assigned in that generation
  };
  void RunConsumer(const ConsumerInstance& inst);
  // The worker-pool loop of one instance (threading: worker-pool).
  void RunPooledConsumer(const ConsumerInstance& inst, KafkaConsumer& consumer,
                         const Config& config);
  // A consumer instance's host crashed: note the rebalance to come and, once the host is
  // restarted, run a fresh consumer on it.
  void OnNodeCrash(NodeId node);
  // A record the application finished with (polled, or processed by a pool worker).
  void RecordConsumed(const std::string& consumer, const std::string& group,
                      int32_t generation, const ConsumerRecord& r);
  static void GrowPerSecond(RunResult& res, int64_t second);
  static bool Subscribes(const ConsumerSpec& c, const std::string& topic);
  // Some group subscribes to `topic` / `topic` is compacted (cached per topic).
  bool Consumed(const std::string& topic);
  bool Compacted(const std::string& topic);
  Datum NextKey(const KeySpec& k, Datum::Kind kind, Rng& rng, int64_t* sequential);

  Cluster& cluster_;
  const Scenario& sc_;
  std::vector<Instance> producers_;
  std::vector<ConsumerInstance> consumers_;
  std::vector<std::shared_ptr<KafkaConsumer>> consumer_objects_;
  std::map<uint64_t, TimeNs> e2e_send_time_;  // until first consumed
  bool consumers_stopping_ = false;
  Event* ready_ = nullptr;
  std::set<std::string> pooled_;                 // worker-pool instances (history at processing)
  std::map<NodeId, uint64_t> crash_count_;       // per consumer host; stale supervisors quit
  std::map<std::string, int32_t> group_generation_;  // highest generation assigned per group
  std::vector<OpenRebalance> open_rebalances_;
  std::vector<std::shared_ptr<void>> pools_;     // worker-pool state, kept for the run
  std::map<uint64_t, TimeNs> send_time_;
  std::map<std::string, bool, std::less<>> consumed_topics_;
  std::map<std::string, bool, std::less<>> compacted_topics_;
  // Clients stay alive until the simulation is torn down: their fibers may still be inside.
  std::vector<std::shared_ptr<KafkaProducer>> producer_objects_;
  uint64_t next_record_id_ = 1;
  bool stopping_ = false;
  DurationNs close_timeout_ns_ = 30 * kSecond;
  int running_producers_ = 0;
};

}  // namespace ksim

#endif  // KSIM_SIM_CLUSTER_WORKLOAD_H_
