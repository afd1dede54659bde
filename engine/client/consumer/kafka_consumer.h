// The consumer client (Kafka's KafkaConsumer with its ConsumerCoordinator and Fetcher).
// subscribe() joins a group through the coordinator chosen by group.id; the leader member
// computes the assignment with the configured assignor; poll() runs the group protocol
// (join, sync, rebalance listener callbacks), auto-commits, and fetches from partition leaders
// up to the high watermark. A heartbeat fiber keeps the membership alive and leaves the
// group if poll() is not called within max.poll.interval.ms.
#ifndef KSIM_ENGINE_CLIENT_CONSUMER_KAFKA_CONSUMER_H_
#define KSIM_ENGINE_CLIENT_CONSUMER_KAFKA_CONSUMER_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/client/client_metadata.h"
#include "engine/config/config_def.h"
#include "engine/log/record_batch.h"
#include "engine/protocol/group_messages.h"
#include "engine/rpc/rpc_client.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

struct ConsumerRecord {
  TopicPartition tp;
  int64_t offset = -1;
  uint64_t record_id = 0;
  int64_t timestamp_ms = 0;
  int32_t value_size_bytes = 0;
};

class ConsumerRebalanceListener {
 public:
  virtual ~ConsumerRebalanceListener() = default;
  virtual void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) = 0;
  virtual void OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) = 0;
};

// Hooks for the simulator's history recorder.
class ConsumerObserver {
 public:
  virtual ~ConsumerObserver() = default;
  virtual void OnPoll(const std::string& consumer, const std::string& group, int32_t generation,
                      const ConsumerRecord& r) = 0;
  virtual void OnCommit(const std::string& consumer, const std::string& group,
                        int32_t generation, const TopicPartition& tp, int64_t offset,
                        bool ok) = 0;
  virtual void OnAssignment(const std::string& consumer, const std::string& group,
                            int32_t generation, const std::vector<TopicPartition>& parts) = 0;
};

class KafkaConsumer {
 public:
  KafkaConsumer(Runtime& rt, Config config, std::vector<NodeId> bootstrap, std::string client_id);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  void set_observer(ConsumerObserver* o) { observer_ = o; }

  // Each call replaces the previous subscription (or manual assignment).
  void Subscribe(std::vector<std::string> topics, ConsumerRebalanceListener* listener = nullptr);
  void SubscribePattern(std::string regex, ConsumerRebalanceListener* listener = nullptr);
  void Assign(std::vector<TopicPartition> partitions);
  void Unsubscribe();

  // Returns up to max.poll.records records, waiting up to `timeout` for some. Errors: a
  // partition without committed offset under auto.offset.reset=none (InvalidArgument naming
  // it), Wakeup() (Cancelled).
  absl::StatusOr<std::vector<ConsumerRecord>> Poll(DurationNs timeout);

  // Commits the given offsets (default: the current positions of all assigned partitions).
  absl::Status CommitSync(std::optional<std::map<TopicPartition, int64_t>> offsets = std::nullopt);
  void CommitAsync(std::function<void(const absl::Status&)> callback = nullptr);

  void Seek(const TopicPartition& tp, int64_t offset);
  void SeekToBeginning(const std::vector<TopicPartition>& tps);
  void SeekToEnd(const std::vector<TopicPartition>& tps);
  std::optional<int64_t> Position(const TopicPartition& tp) const;
  std::optional<int64_t> Committed(const TopicPartition& tp);
  std::vector<TopicPartition> assignment() const;
  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }

  // Makes a blocked or the next Poll() return Cancelled.
  void Wakeup();
  // Commits (if auto-commit is on) and leaves the group.
  void Close();

 private:
  // A commit as made: its offsets, and the generation and member id it was made in (the
  // request carries them even if it goes out after a rebalance, as Java's does).
  struct PendingCommit {
    std::map<TopicPartition, int64_t> offsets;
    int32_t generation = -1;
    std::string member_id;
    int64_t ticket = 0;
  };
  PendingCommit MakeCommit(std::optional<std::map<TopicPartition, int64_t>> offsets);
  // Sends `commit` when its ticket is the next to go out.
  absl::Status CommitInTurn(const PendingCommit& commit);
  absl::Status DoCommit(const PendingCommit& commit);
  struct PartitionState {
    std::optional<int64_t> position;        // next offset poll() returns (what commits use)
    std::optional<int64_t> fetch_position;  // next offset to fetch (ahead of it when buffered)
  };
  // The fetched, not yet returned records of one partition (the Java Fetcher's
  // CompletedFetch): kept as batches, turned into ConsumerRecords only as poll() returns them.
  struct CompletedFetch {
    TopicPartition tp;
    std::vector<BatchPtr> batches;
    size_t batch = 0;             // the batch holding next_offset
    int64_t next_offset = 0;      // the next record to return
    int64_t end_offset = 0;       // records at or above it are not returned (the HW)
  };
  bool EnsureCoordinator(TimeNs deadline);
  absl::Status EnsureActiveGroup(TimeNs deadline);
  absl::Status JoinAndSync(TimeNs deadline);
  void MaybeRejoinOnMetadataChange();
  std::map<std::string, GroupAssignment> ComputeAssignment(
      const std::string& protocol, const std::vector<JoinGroupMember>& members);
  void SetAssignment(const std::vector<TopicPartition>& parts);
  absl::Status ResolvePositions(TimeNs deadline);
  // Sends fetches to the brokers without one in flight, waits for some answer (or the
  // deadline) and queues what arrived in completed_.
  void FetchRound(TimeNs deadline);
  // Moves up to `max` buffered records into `out`, advancing positions.
  void DrainCompleted(size_t max, std::vector<ConsumerRecord>& out);
  absl::StatusOr<ResponsePtr> CallCoordinator(std::shared_ptr<Request> r, TimeNs deadline);
  RpcClient& ClientFor(NodeId node);
  void HeartbeatLoop(std::shared_ptr<bool> alive);
  void MaybeAutoCommit();
  std::vector<std::string> SubscribedTopics();

  Runtime& rt_;
  Config config_;
  std::string client_id_;
  std::string group_id_;
  ClientMetadata metadata_;
  ConsumerObserver* observer_ = nullptr;
  ConsumerRebalanceListener* listener_ = nullptr;
  std::vector<std::string> topics_;
  std::string pattern_;
  bool manual_ = false;
  std::map<TopicPartition, PartitionState> assigned_;
  std::deque<CompletedFetch> completed_;
  std::map<NodeId, std::unique_ptr<RpcClient>> clients_;
  NodeId coordinator_ = kNoNode;
  std::string member_id_;
  bool is_leader_ = false;
  std::map<std::string, int32_t> assigned_partition_counts_;  // the leader's snapshot
  int32_t generation_ = -1;
  bool needs_rejoin_ = true;
  bool rejoining_ = false;
  bool woken_ = false;
  bool closed_ = false;
  TimeNs last_poll_ = 0;
  TimeNs last_auto_commit_ = 0;
  // Commits reach the coordinator in the order they were made, as over the Java client's one
  // connection: an async commit still looking for the coordinator is not overtaken by a later
  // commit (which would let offsets go backwards). Each commit takes a ticket when made.
  int64_t next_commit_ticket_ = 0;
  int64_t serving_commit_ticket_ = 0;
  WaitList commit_turn_;
  std::shared_ptr<bool> alive_;
  Mutex coordinator_mu_;
  // At most one fetch in flight per broker, as the Java Fetcher does; poll() never waits on a
  // slow broker longer than its own timeout.
  struct PendingFetch {
    std::shared_ptr<FetchRequest> request;
    Future<absl::StatusOr<ResponsePtr>> response;
  };
  std::map<NodeId, PendingFetch> pending_fetches_;
  std::shared_ptr<Event> fetch_done_ = std::make_shared<Event>();
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_CONSUMER_KAFKA_CONSUMER_H_
