// One partition replica on a broker: its log, its role (leader or follower) in the current
// leader epoch, and, as leader, what it knows of each follower (log end offset, when it was
// last caught up) to maintain the ISR and the high watermark.
//
// Kafka's rules implemented here:
// - HW = min LEO over the ISR (the leader included); it never goes backwards.
// - acks=all completes when HW passes the batch; NOT_ENOUGH_REPLICAS if the ISR is smaller
//   than min.insync.replicas before appending, NOT_ENOUGH_REPLICAS_AFTER_APPEND if it shrank
//   below it while waiting.
// - A follower stays in the ISR while it caught up to the leader's LEO within
//   replica.lag.time.max.ms; the leader proposes ISR changes to the controller (AlterPartition)
//   and uses the new ISR once committed.
// - Becoming follower truncates by leader epoch (or, with ksim.truncation.rule=high-watermark,
//   to the local HW, reproducing the bugs KIP-101 fixed).
#ifndef KSIM_ENGINE_BROKER_PARTITION_H_
#define KSIM_ENGINE_BROKER_PARTITION_H_

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/broker/broker_config.h"
#include "engine/broker/producer_state.h"
#include "engine/log/log.h"
#include "engine/protocol/messages.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

class Partition {
 public:
  Partition(Runtime& rt, TopicPartition tp, std::unique_ptr<PartitionLog> log,
            const BrokerSettings& broker);

  const TopicPartition& tp() const { return tp_; }
  bool is_leader() const { return leader_ == broker_.broker_id; }
  BrokerId leader() const { return leader_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int32_t partition_epoch() const { return partition_epoch_; }
  const std::vector<BrokerId>& isr() const { return isr_; }
  const std::vector<BrokerId>& replicas() const { return replicas_; }
  const TopicSettings& settings() const { return settings_; }
  // Batches this leader recompressed because the topic's compression.type differs.
  int64_t recompressed_batches() const { return recompressed_batches_; }
  PartitionLog& log() { return *log_; }
  int64_t high_watermark() const;
  int64_t log_end_offset() const;

  // --- Role changes (LeaderAndIsr). Stale epochs are ignored (returns false). ---
  bool BecomeLeader(const PartitionState& state, const TopicSettings& settings);
  bool BecomeFollower(const PartitionState& state, const TopicSettings& settings);
  // The partition is no longer hosted here (StopReplica) or the broker shuts down.
  void Stop();

  // --- Leader side ---
  // Appends and, for acks=all, waits until the HW passes the batch or `deadline`.
  ProducePartitionResponse Produce(BatchPtr batch, int16_t acks, TimeNs deadline);
  // Produce in two steps, as Kafka's ReplicaManager does for a request with several
  // partitions: append to every partition first, then wait once for all their acks.
  struct PendingProduce {
    ProducePartitionResponse response;
    bool await_acks = false;  // acks=all and appended: the HW must pass last_offset
    int64_t last_offset = -1;
    int32_t epoch = -1;
  };
  PendingProduce Append(BatchPtr batch, int16_t acks);
  ProducePartitionResponse AwaitAcks(const PendingProduce& pending, TimeNs deadline);
  // Serves a fetch from a consumer (replica_id < 0, up to HW) or a follower (up to LEO).
  FetchPartitionResponse Fetch(int32_t replica_id, const FetchPartition& request,
                               int32_t max_bytes);
  // Bytes a fetch from `offset` could return now (delayed fetch's min.bytes check).
  int64_t AvailableBytes(int32_t replica_id, int64_t offset) const;
  ListOffsetsPartitionResponse ListOffset(int64_t timestamp, bool from_consumer) const;
  OffsetsForLeaderEpochResponse::Partition EndOffsetForEpoch(int32_t current_epoch,
                                                             int32_t epoch) const;
  // The ISR this leader would like now (shrink lagging, add caught-up followers), if it
  // differs from the current one. REQUIRES: leader.
  std::optional<std::vector<BrokerId>> WantedIsr(TimeNs now) const;
  // Applies an ISR the controller committed.
  void ApplyCommittedIsr(const PartitionState& state);

  // --- Follower side ---
  // Appends what the leader returned and moves the HW. Truncates on divergence.
  absl::Status ApplyFetchedData(const FetchPartitionResponse& response);
  // Truncation on becoming follower; `leader_end` is the leader's answer for our latest epoch
  // (leader-epoch rule) or unset (high-watermark rule).
  void TruncateForNewLeader(std::optional<EpochEndOffset> leader_end);
  int32_t latest_epoch() const;

  // A broker-wide list also notified on every append, HW move or role change, so one delayed
  // fetch can wait on many partitions.
  void set_broker_waiters(WaitList* w) { broker_waiters_ = w; }
  // A delayed fetch's armed ticket, woken by the next append, HW move or role change of this
  // partition (Kafka's purgatory watch key). One ticket may watch many partitions.
  void WatchData(WaitTicket ticket) { fetch_waiters_.Add(ticket); }

 private:
  struct FollowerState {
    int64_t log_end_offset = -1;
    TimeNs last_caught_up = 0;
    TimeNs last_fetch = 0;
    int64_t leader_leo_at_last_fetch = 0;
  };
  bool AcceptEpoch(const PartitionState& state);
  void MaybeAdvanceHighWatermark();
  void SetHighWatermark(int64_t hw);
  void UpdateFollower(BrokerId replica, int64_t fetch_offset, TimeNs now);
  void RebuildProducerState();
  void Notify();

  Runtime& rt_;
  TopicPartition tp_;
  std::unique_ptr<PartitionLog> log_;
  const BrokerSettings& broker_;
  TopicSettings settings_;
  int64_t recompressed_batches_ = 0;
  BrokerId leader_ = kNoBroker;
  int32_t leader_epoch_ = -1;
  int32_t partition_epoch_ = -1;
  int64_t leader_epoch_start_offset_ = 0;
  std::vector<BrokerId> isr_;
  std::vector<BrokerId> replicas_;
  std::map<BrokerId, FollowerState> followers_;
  ProducerStateTable producers_;
  WaitList data_waiters_;
  WaitList fetch_waiters_;
  WaitList* broker_waiters_ = nullptr;
  bool stopped_ = false;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_PARTITION_H_
