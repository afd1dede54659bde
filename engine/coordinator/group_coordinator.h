// The broker-side group coordinator (Kafka's classic GroupCoordinator). Every broker runs one;
// it coordinates the groups whose __consumer_offsets partition
// (abs(hashCode(group.id)) % offsets.topic.num.partitions) this broker leads.
//
// Group states follow Kafka: Empty -> PreparingRebalance -> CompletingRebalance -> Stable,
// and Dead when it is deleted or its offsets expired (a Dead group is forgotten at once; so are
// the groups of a partition the coordinator stops leading). A JoinGroup must name a protocol
// type and at least one protocol, and (in a non-empty group) the group's protocol type and a
// protocol every member supports, else INCONSISTENT_GROUP_PROTOCOL; this is checked before a
// member id is handed out.
// Pending member ids (KIP-394) expire after the member's session timeout or on LeaveGroup.
// A rebalance completes when every known member has rejoined and no pending member is left, or
// the rebalance timeout passes (members that did not rejoin are removed). A rebalance that
// starts from Empty waits group.initial.rebalance.delay.ms, extended by that delay (bounded by
// the rebalance timeout) while new members keep joining a generation-0 group
// (InitialDelayedJoin). After the join phase, members that do not send SyncGroup within the
// rebalance timeout are removed and the group rebalances (DelayedSync). Members that stop
// heartbeating for session.timeout.ms are removed (not while they await a JoinGroup or
// SyncGroup response).
//
// Persistence, as Kafka's GroupMetadataManager: offset commits are appended to
// __consumer_offsets (acks=all) before they are acknowledged, each with its commit timestamp.
// The group's metadata (generation, protocol, leader, members and assignments, and when the
// group entered its state) is written with acks=all when the leader's assignment arrives and
// when the group empties. A new coordinator (failover) loads both, so members carry on in
// their generation without a rebalance and the offsets keep their expiry times.
//
// Deletion writes tombstones (null values) that the log cleaner later removes together with the
// records they supersede. Every offsets.retention.check.interval.ms the coordinator expires
// offsets older than offsets.retention.minutes (KIP-211): those of an Empty group counting from
// when it became Empty, those of a standalone group (no protocol type: assign() consumers, the
// admin client) from their commit, and those of a Stable consumer group's unsubscribed topics
// from their commit. An Empty group left without offsets turns Dead and is forgotten; its
// metadata gets a tombstone if it ever had a generation. DeleteGroups deletes an Empty group's
// offsets and metadata the same way, OffsetDelete (KIP-496) offsets of topics the group does not
// consume. These tombstones are appended to the leader only (Kafka: acks=0): a lost one is
// harmless, as a later coordinator loads the records again and expires them again.
#ifndef KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_
#define KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/broker/broker.h"
#include "engine/coordinator/offsets_records.h"
#include "engine/protocol/group_messages.h"
#include "engine/runtime/sync.h"

namespace ksim {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

struct GroupCoordinatorConfig {
  int32_t offsets_topic_partitions = 50;
  int32_t offsets_topic_replication_factor = 3;
  DurationNs initial_rebalance_delay_ns = 3 * kSecond;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  // offsets.retention.minutes and offsets.retention.check.interval.ms are read from the broker's
  // config (Broker::settings().raw), as offsets.topic.segment.bytes is.
};

// Why offsets were removed, for traces.
enum class OffsetRemoval { kExpired, kGroupDeleted, kOffsetsDeleted, kTopicDeleted };

// The coordinator's settings from a broker's config (offsets.topic.*, group.*).
GroupCoordinatorConfig GroupCoordinatorConfigFrom(const Config& broker_config);

class GroupCoordinator {
 public:
  GroupCoordinator(Runtime& rt, Broker& broker, GroupCoordinatorConfig config);
  // Starts the loops that expire sessions and follow __consumer_offsets leadership.
  void Start();
  // The brokers' metadata deleted these topics: drop their offsets (in a fiber of its own).
  void OnTopicsDeleted(const std::vector<std::string>& topics);
  // Handles the group APIs; nullptr for any other request.
  std::shared_ptr<Response> Handle(const RequestPtr& request);

 private:
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
  struct Member {
    std::string id;
    std::string instance_id;
    std::string client_id;
    DurationNs session_timeout_ns = 0;
    DurationNs rebalance_timeout_ns = 0;
    std::vector<std::pair<std::string, GroupSubscription>> protocols;
    GroupAssignment assignment;
    TimeNs last_heartbeat = 0;
    bool joined = false;     // rejoined in the current rebalance
    bool awaiting_join = false;
    bool awaiting_sync = false;  // a follower's SyncGroup parked until the assignment arrives
  };
  using Protocols = std::vector<std::pair<std::string, GroupSubscription>>;
  struct CommittedOffset {
    int64_t offset = -1;
    int64_t commit_timestamp_ms = 0;
  };
  struct Group {
    std::string id;
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;  // set by the first member of an empty group
    std::string protocol;
    std::string leader;
    std::map<std::string, Member> members;
    // Ids handed out with MEMBER_ID_REQUIRED, each with the time it expires.
    std::map<std::string, TimeNs> pending_members;
    TimeNs rebalance_deadline = 0;
    // InitialDelayedJoin: the rebalance started from Empty and only completes at its deadline,
    // which is pushed back while new members join a generation-0 group.
    bool initial_delay = false;
    bool new_member_added = false;
    DurationNs initial_current_delay = 0;
    DurationNs initial_remaining = 0;
    // DelayedSync: members of the current generation that have not sent SyncGroup yet.
    std::set<std::string> pending_sync;
    TimeNs sync_deadline = 0;  // 0: no pending-sync expiration scheduled
    std::shared_ptr<Event> join_done;  // set when the current rebalance's join phase ends
    std::shared_ptr<Event> sync_done;  // set when the leader's assignment arrives
    // Kafka's currentStateTimestamp: when the group entered `state`.
    int64_t state_timestamp_ms = 0;
    // The topics the members of a "consumer" group subscribe to, fixed when a generation starts
    // (GroupMetadata.subscribedTopics); nullopt when unknown (another protocol type).
    std::optional<std::set<std::string>> subscribed_topics;
    std::map<TopicPartition, CommittedOffset> offsets;
    // Commits being appended (per partition, how many): not expired, and dropped on completion
    // if the offset was deleted meanwhile (Kafka's pendingOffsetCommits).
    std::map<TopicPartition, int32_t> pending_commits;
  };

  std::shared_ptr<Response> FindCoordinator(const FindCoordinatorRequest& r);
  std::shared_ptr<Response> JoinGroup(const JoinGroupRequest& r);
  std::shared_ptr<Response> SyncGroup(const SyncGroupRequest& r);
  std::shared_ptr<Response> Heartbeat(const HeartbeatRequest& r);
  std::shared_ptr<Response> LeaveGroup(const LeaveGroupRequest& r);
  std::shared_ptr<Response> OffsetCommit(const OffsetCommitRequest& r);
  std::shared_ptr<Response> OffsetFetch(const OffsetFetchRequest& r);
  std::shared_ptr<Response> DescribeGroups(const DescribeGroupsRequest& r);
  std::shared_ptr<Response> DeleteGroups(const DeleteGroupsRequest& r);
  std::shared_ptr<Response> OffsetDelete(const OffsetDeleteRequest& r);

  // NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS, or kNone if this broker serves `group`.
  Error CheckCoordinator(const std::string& group) const;
  int32_t PartitionFor(const std::string& group) const;
  Group& GetGroup(const std::string& id);
  // Moves the group to `s`, stamping the time (GroupMetadata.transitionTo).
  void SetState(Group& g, State s);
  // GroupMetadata.computeSubscribedTopics.
  static std::optional<std::set<std::string>> SubscribedTopics(const Group& g);
  static bool HasOffsets(const Group& g) {
    return !g.offsets.empty() || !g.pending_commits.empty();
  }
  // GroupMetadata.supportsProtocols.
  static bool SupportsProtocols(const Group& g, const std::string& protocol_type,
                                const Protocols& protocols);
  // MemberMetadata.matches: the same protocols, in the same order, with the same subscriptions.
  static bool SameProtocols(const Protocols& a, const Protocols& b);
  void PrepareRebalance(Group& g, const std::string& reason);
  void MaybeCompleteJoin(Group& g, bool deadline_passed);
  void RemoveMember(Group& g, const std::string& member, const std::string& reason);
  void ExpirePendingSync(Group& g);
  static DurationNs RebalanceTimeout(const Group& g);
  void SessionLoop();
  void LeadershipLoop();
  void Load(int32_t partition);
  // Appends the group's metadata (generation, members, assignment) to __consumer_offsets;
  // with `wait`, blocks until written (acks=all) and says whether it was.
  bool StoreGroup(const Group& g, bool wait);
  // One offset-expiration pass (run every offsets.retention.check.interval.ms): returns the
  // number of offsets removed.
  int64_t ExpireOffsets();
  // Kafka's GroupMetadataManager.cleanupGroupMetadata for deleted topics: the offsets of
  // their partitions are removed from every group this broker coordinates, with tombstones.
  int64_t RemoveOffsetsOfTopics(const std::set<std::string>& topics);
  // Removes from every group this broker coordinates the offsets `pick` names, then writes
  // the tombstones; returns how many offsets went.
  int64_t RemoveOffsetsFromGroups(
      const std::function<std::vector<TopicPartition>(const Group&)>& pick, OffsetRemoval why);
  // Expiration of the offsets of one group (GroupMetadata.removeExpiredOffsets).
  std::vector<TopicPartition> ExpiredOffsets(const Group& g, int64_t now_ms) const;
  // The tombstones one group's cleanup appends.
  struct Tombstones {
    std::string group;
    std::vector<TopicPartition> offsets;
    bool group_metadata = false;
    OffsetRemoval why = OffsetRemoval::kExpired;
  };
  // GroupMetadataManager.cleanupGroupMetadata for one group, in memory (does not block):
  // removes `removed` from its offsets and pending commits; a Dead group, or an Empty one left
  // without offsets, is forgotten. Returns the tombstones to append: the removed offsets that
  // existed and, for a forgotten group that had a generation, its metadata.
  Tombstones RemoveOffsets(Group& g, const std::vector<TopicPartition>& removed,
                           OffsetRemoval why);
  // Forgets a group, waking any request parked on it.
  void ForgetGroup(const std::string& id);
  // Appends the tombstones to the group's __consumer_offsets partition, on the leader only
  // (Kafka: acks=0). Blocks while the log is written.
  void AppendTombstones(const Tombstones& t);
  void ExpirationLoop();
  // Loading __consumer_offsets.
  struct LoadStats {
    int64_t commits = 0;
    int64_t group_records = 0;
    int64_t tombstones = 0;
    std::set<std::string> seen;           // groups the records named
    std::set<std::string> with_metadata;  // ...whose latest metadata record is not deleted
  };
  void LoadBatch(const RecordBatch& b, LoadStats& stats);
  void RestoreGroup(const GroupMetadataValue& gm);
  static const char* StateName(State s);

  Runtime& rt_;
  Broker& broker_;
  GroupCoordinatorConfig config_;
  // offsets.retention.minutes and offsets.retention.check.interval.ms (broker configs).
  int64_t offsets_retention_ms_ = 0;
  DurationNs retention_check_interval_ns_ = 0;
  std::map<std::string, Group> groups_;
  std::set<int32_t> owned_;    // __consumer_offsets partitions led and loaded here
  std::set<int32_t> loading_;
  int64_t next_member_ = 0;
  bool creating_offsets_topic_ = false;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_
