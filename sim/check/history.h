// The recorded history of a run: every send, acknowledgement, poll and commit made by the
// simulated clients, plus what the cluster holds at the end. Checkers read only this.
//
// Records are identified by a record id the producer assigns (unique per run, increasing in
// send order per producer), so the history does not depend on payload bytes.
//
// Memory. Operations are packed (client ids, groups, topics and partitions are interned to
// small integers; keys are kept, interned, only for compacted topics) and what checkers need of
// commits, assignments and send order is folded as it arrives. Acknowledgements and polls are
// kept per partition in buckets of kBucketOffsets offsets. Once retention has deleted a
// bucket's offsets from every replica (the partition's retention floor, observed by the
// cluster) and retire_lag has passed since, no client can claim those offsets again: the
// bucket is retired, i.e. its verdicts are folded into counters and anomaly facts and the
// bucket is dropped. Every checker gives the same result with or without retirement (tests
// compare the two); acknowledged records below the retention floor are expected to be absent.
#ifndef KSIM_SIM_CHECK_HISTORY_H_
#define KSIM_SIM_CHECK_HISTORY_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/protocol/api.h"
#include "engine/protocol/errors.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

using RecordId = uint64_t;
using NameId = uint32_t;  // an interned client id, group or topic
using PartId = uint32_t;  // an interned topic-partition
using KeyId = uint32_t;   // an interned record key
inline constexpr PartId kNoPart = UINT32_MAX;
inline constexpr KeyId kNoKey = 0;  // null key, or a topic that is not compacted

// What the recorder is told about a completed send.
struct AckEvent {
  TimeNs time = 0;
  std::string_view producer;  // client id
  RecordId record = 0;
  TopicPartition tp;          // empty topic when the send failed before partitioning
  int64_t offset = -1;        // valid when error == kNone (and acks != 0)
  Error error = Error::kNone;
  bool acks_zero = false;     // acks=0: no offset is known, nothing was promised
  // The topic is compacted (cleanup.policy has "compact"): a record that a later one with the
  // same key superseded in its partition may be removed by the log cleaner.
  bool compacted = false;
  std::optional<std::string> key;  // compacted topics: the record's key; unset: null key
};

struct PollEvent {
  TimeNs time = 0;
  std::string_view consumer;
  std::string_view group;
  int32_t generation = -1;
  TopicPartition tp;
  int64_t offset = -1;
  RecordId record = 0;
};

// Packed operations (what is stored per record).
struct AckOp {
  TimeNs time = 0;
  RecordId record = 0;
  int64_t offset = -1;
  uint64_t seq = 0;  // order among all acknowledgements of the run
  NameId producer = 0;
  PartId part = kNoPart;
  KeyId key = kNoKey;
  Error error = Error::kNone;
  bool acks_zero = false;
  bool compacted = false;
  bool ok() const { return error == Error::kNone && !acks_zero; }  // a promise was made
};

struct PollOp {
  TimeNs time = 0;
  RecordId record = 0;
  int64_t offset = -1;
  uint64_t seq = 0;  // order among all polls of the run
  NameId consumer = 0;
  NameId group = 0;
  int32_t generation = -1;
  PartId part = kNoPart;
};

// A member's assignment in one generation of a group.
struct AssignmentOp {
  TimeNs time = 0;
  NameId group = 0;
  int32_t generation = -1;
  NameId member = 0;
  std::vector<PartId> partitions;
};

// One replica's log at the end of the run (offset → record), and its high watermark.
struct ReplicaLog {
  int32_t broker = -1;
  bool alive = true;
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
  std::map<int64_t, RecordId> records;
};

// Facts the streaming checks and retirement keep for the checkers' reports.
struct OrderViolation {  // a producer's record stored before one it sent earlier
  NameId producer = 0;
  PartId part = kNoPart;
  RecordId record = 0;
  int64_t offset = -1;
  TimeNs time = 0;
  RecordId prev_record = 0;
  int64_t prev_offset = -1;
};
struct PollStep {  // two consecutive polls of a consumer in a generation, not one offset apart
  uint64_t seq = 0;  // of the later poll
  TimeNs time = 0;
  NameId consumer = 0;
  PartId part = kNoPart;
  int64_t offset = -1;
  RecordId record = 0;
  int64_t prev_offset = -1;
};
struct OwnershipViolation {
  TimeNs time = 0;
  PartId part = kNoPart;
  NameId group = 0;
  int32_t generation = -1;
  NameId owner = 0;
  NameId member = 0;
};
struct CommitViolation {
  TimeNs time = 0;
  NameId group = 0;
  int32_t generation = -1;
  PartId part = kNoPart;
  int64_t offset = -1;
  int64_t prev_offset = -1;
};
// Who claimed a record at an offset: an acknowledgement, a poll or the final read.
struct Claim {
  enum Kind : uint8_t { kAck, kPoll, kFinalRead } kind = kAck;
  NameId who = 0;  // producer or consumer
  RecordId record = 0;
};
struct OffsetConflict {
  Claim::Kind phase = Claim::kAck;  // of the later claim: acks come first, then polls
  uint64_t seq = 0;                 // of the later claim (acks, polls)
  TimeNs time = 0;
  PartId part = kNoPart;
  int64_t offset = -1;
  Claim first;
  Claim later;
};
struct Unconsumed {  // a retired acknowledged record a group had not polled
  TimeNs time = 0;
  PartId part = kNoPart;
  int64_t offset = -1;
};

class History {
 public:
  static constexpr int64_t kBucketOffsets = 512;

  History() = default;
  // Not copyable: buckets are referred to by pointer while recording.
  History(const History&) = delete;
  History& operator=(const History&) = delete;
  History(History&&) = default;
  History& operator=(History&&) = default;

  // Recording (the workload).
  void RecordSend(std::string_view producer, RecordId record);
  void RecordAck(const AckEvent& e);
  void RecordPoll(const PollEvent& e);
  void RecordCommit(TimeNs time, std::string_view consumer, std::string_view group,
                    int32_t generation, const TopicPartition& tp, int64_t offset, bool ok);
  void RecordAssignment(TimeNs time, std::string_view group, int32_t generation,
                        std::string_view member, const std::vector<TopicPartition>& parts);
  // A consumer group of the run and which topics it may read (its subscription). Groups not
  // declared are taken to read the topics they have polled or been assigned so far.
  void DeclareGroup(std::string_view group, std::function<bool(const std::string&)> reads);

  // Retention and retirement (the cluster, now and then, in the main context).
  // Every replica of `tp` starts at `min_log_start` or later now.
  void ObserveLogStart(const TopicPartition& tp, int64_t min_log_start, TimeNs now);
  // `topic` was deleted (every replica is gone): what was recorded for it is moved to a topic
  // named "<topic> (deleted at TIME)" whose records are all expected to be absent (as if
  // retention had deleted them), and a topic recreated under the name starts afresh.
  void ForgetTopic(const std::string& topic, TimeNs now);
  // Retires every bucket below the floor observed at least retire_lag before `now`.
  void Retire(TimeNs now);
  // How long after a floor was observed its buckets are retired; kForever: never.
  void set_retire_lag(DurationNs lag) { retire_lag_ns_ = lag; }
  DurationNs retire_lag() const { return retire_lag_ns_; }
  // Called with each retired acknowledged record (the workload forgets its send time).
  void set_on_retired(std::function<void(RecordId)> fn) { on_retired_ = std::move(fn); }

  // Size.
  int64_t live_ops() const { return live_ops_; }      // acks and polls held
  int64_t retired_ops() const { return retired_ops_; }
  // Acks and polls that arrived for offsets already retired (0 unless retire_lag is too short
  // for some client; the checkers' view of those offsets is then partial).
  int64_t late_ops() const { return late_ops_; }
  // An estimate of the bytes the history holds (operations, facts, indexes).
  int64_t live_bytes() const;

  // Names.
  const std::string& name(NameId id) const { return names_.at(id); }
  std::optional<NameId> FindName(std::string_view s) const;
  // The partition (an empty one for kNoPart: a send that failed before partitioning).
  const TopicPartition& tp(PartId p) const;
  NameId topic(PartId p) const { return parts_.at(p).topic; }
  PartId FindPart(const TopicPartition& tp) const;
  size_t part_count() const { return parts_.size(); }
  KeyId key_count() const { return static_cast<KeyId>(keys_.size()); }
  const std::string& key(KeyId id) const { return keys_.at(id); }

  // What the checkers read.
  // Every live acknowledgement / poll (any order; sort by seq where order matters).
  void ForEachAck(const std::function<void(const AckOp&)>& fn) const;
  void ForEachPoll(const std::function<void(const PollOp&)>& fn) const;
  // The highest log start every replica of the partition had passed at once (0: none).
  int64_t retention_floor(PartId p) const { return p == kNoPart ? 0 : parts_.at(p).floor; }
  int64_t retired_acked() const { return retired_acked_; }
  const std::vector<AssignmentOp>& assignments() const { return assignments_; }
  const std::map<NameId, std::set<NameId>>& group_topics() const { return group_topics_; }
  // Acknowledgements a producer's later send overtook (including those still held back until
  // every earlier send of the producer completed), unsorted.
  std::vector<OrderViolation> OrderViolations() const;
  // Consecutive polls of a consumer in a generation that went back or skipped offsets, in poll
  // order (gaps are checked against the final read by the checker).
  std::vector<PollStep> PollSteps() const;
  const std::vector<OwnershipViolation>& ownership_violations() const { return owners_bad_; }
  const std::vector<CommitViolation>& commit_violations() const { return commits_bad_; }
  // Retired records not polled by a group (by group, then record), and retired polls whose
  // record was not retired with them (record, group).
  const std::map<NameId, std::map<RecordId, Unconsumed>>& unconsumed() const { return unconsumed_; }
  const std::set<std::pair<RecordId, NameId>>& orphan_polls() const { return orphan_polls_; }
  // Every conflicting claim on an offset, live and retired, in report order.
  std::vector<OffsetConflict> OffsetConflicts() const;
  // The order in which the checkers report partitions (TopicPartition order).
  bool PartLess(PartId a, PartId b) const { return tp(a) < tp(b); }

  // What a fresh consumer read from each partition after faults healed (offset → record),
  // and whether that final read completed (reached the high watermark).
  std::map<TopicPartition, std::map<int64_t, RecordId>> final_reads;
  std::map<TopicPartition, bool> final_read_complete;
  // Every replica of every partition at the end.
  std::map<TopicPartition, std::vector<ReplicaLog>> replicas;
  // What the configuration promises: checks of promises not made are reported as skipped.
  bool promises_no_duplicates = false;    // enable.idempotence on every producer
  bool promises_order = false;            // idempotence or max.in.flight == 1

 private:
  struct Bucket {
    std::vector<AckOp> acks;
    std::vector<PollOp> polls;
  };
  struct PartState {
    TopicPartition tp;
    NameId topic = 0;
    bool compacted = false;                // never retired: the cleaner keeps data forever
    int64_t floor = 0;                     // retention floor (max observed)
    int64_t retired_below = 0;             // buckets below this offset have been folded
    std::deque<std::pair<TimeNs, int64_t>> pending_floors;  // observed, not yet retirable
    std::map<int64_t, Bucket> buckets;     // by offset / kBucketOffsets
    int64_t hot_index = INT64_MIN;         // the bucket last appended to
    Bucket* hot = nullptr;
    std::vector<PollStep> gaps;            // poll steps over skipped offsets (checked at end)
  };
  // A producer's sends in send (= record id) order, from the oldest not yet compared.
  struct PendingSend {
    RecordId record = 0;
    bool done = false;     // completed
    bool ordered = false;  // acknowledged with an offset: takes part in the order check
    PartId part = kNoPart;
    int64_t offset = -1;
    TimeNs time = 0;
  };
  struct ProducerState {
    std::deque<PendingSend> sends;
  };
  struct Last {
    RecordId record = 0;
    int64_t offset = -1;
  };

  NameId Intern(std::string_view s);
  PartId InternPart(const TopicPartition& tp);
  Bucket& BucketFor(PartState& ps, int64_t offset);
  KeyId InternKey(const std::string& key);
  void OrderCompleted(NameId producer, ProducerState& ps);
  static void CheckOrder(NameId producer, const PendingSend& a,
                         std::map<std::pair<NameId, PartId>, Last>& last,
                         std::vector<OrderViolation>* out);
  void RetireBucket(PartId part, Bucket& b);
  std::vector<NameId> ReadersOf(NameId topic);
  void CollectConflicts(PartId part, std::vector<const AckOp*> acks,
                        std::vector<const PollOp*> polls,
                        const std::map<int64_t, RecordId>* final_read,
                        std::vector<OffsetConflict>* out) const;

  // Interning.
  std::vector<std::string> names_;
  std::map<std::string, NameId, std::less<>> name_ids_;
  std::deque<PartState> parts_;  // a deque: buckets are referred to by pointer
  std::map<TopicPartition, PartId> part_ids_;
  PartId last_part_ = kNoPart;  // the partition last looked up (operations come in runs)
  std::vector<std::string> keys_{""};  // keys_[0]: kNoKey
  std::map<std::string, KeyId, std::less<>> key_ids_;

  // Live operations without a place in a partition's buckets (acks=0, failed compacted sends).
  std::vector<AckOp> unplaced_acks_;
  uint64_t ack_seq_ = 0;
  uint64_t poll_seq_ = 0;
  int64_t live_ops_ = 0;
  int64_t retired_ops_ = 0;
  int64_t late_ops_ = 0;

  // Streaming checks.
  std::map<NameId, ProducerState> producers_;
  std::map<std::pair<NameId, PartId>, Last> producer_last_;
  std::vector<OrderViolation> order_violations_;
  std::map<std::tuple<NameId, int32_t, PartId>, Last> consumer_last_;
  std::vector<PollStep> nonmonotonic_;
  std::map<std::tuple<NameId, int32_t, PartId>, NameId> owners_;
  std::vector<OwnershipViolation> owners_bad_;
  std::map<std::tuple<NameId, int32_t, PartId>, int64_t> commit_last_;
  std::vector<CommitViolation> commits_bad_;
  std::vector<AssignmentOp> assignments_;
  std::map<NameId, std::set<NameId>> group_topics_;

  // Retirement.
  DurationNs retire_lag_ns_ = kMinute;
  std::map<NameId, std::function<bool(const std::string&)>> declared_groups_;
  std::map<std::pair<NameId, NameId>, bool> reads_cache_;  // (group, topic)
  std::function<void(RecordId)> on_retired_;
  int64_t retired_acked_ = 0;
  std::vector<OffsetConflict> retired_conflicts_;
  std::map<NameId, std::map<RecordId, Unconsumed>> unconsumed_;
  std::set<std::pair<RecordId, NameId>> orphan_polls_;
};

}  // namespace ksim

#endif  // KSIM_SIM_CHECK_HISTORY_H_
