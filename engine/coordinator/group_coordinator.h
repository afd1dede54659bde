// The broker-side group coordinator (Kafka's classic GroupCoordinator). Every broker runs one;
// it coordinates the groups whose __consumer_offsets partition
// (abs(hashCode(group.id)) % offsets.topic.num.partitions) this broker leads.
//
// Group states follow Kafka: Empty -> PreparingRebalance -> CompletingRebalance -> Stable,
// and Dead when the coordinator moves away. A JoinGroup must name a protocol type and at least
// one protocol, and (in a non-empty group) the group's protocol type and a protocol every member
// supports, else INCONSISTENT_GROUP_PROTOCOL; this is checked before a member id is handed out.
// Pending member ids (KIP-394) expire after the member's session timeout or on LeaveGroup.
// A rebalance completes when every known member has rejoined and no pending member is left, or
// the rebalance timeout passes (members that did not rejoin are removed). A rebalance that
// starts from Empty waits group.initial.rebalance.delay.ms, extended by that delay (bounded by
// the rebalance timeout) while new members keep joining a generation-0 group
// (InitialDelayedJoin). After the join phase, members that do not send SyncGroup within the
// rebalance timeout are removed and the group rebalances (DelayedSync). Members that stop
// heartbeating for session.timeout.ms are removed (not while they await a JoinGroup or
// SyncGroup response). Offset commits are appended to __consumer_offsets (acks=all) before they
// are acknowledged, and a new coordinator loads them from the log.
//
// Simplification (documented in docs/ARCHITECTURE.md): group membership is not persisted, so
// after a coordinator failover members rejoin as new members (UNKNOWN_MEMBER_ID) and the group
// rebalances; committed offsets survive.
#ifndef KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_
#define KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/broker/broker.h"
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
};

class GroupCoordinator {
 public:
  GroupCoordinator(Runtime& rt, Broker& broker, GroupCoordinatorConfig config);
  // Starts the loops that expire sessions and follow __consumer_offsets leadership.
  void Start();
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
    std::map<TopicPartition, int64_t> offsets;
  };

  std::shared_ptr<Response> FindCoordinator(const FindCoordinatorRequest& r);
  std::shared_ptr<Response> JoinGroup(const JoinGroupRequest& r);
  std::shared_ptr<Response> SyncGroup(const SyncGroupRequest& r);
  std::shared_ptr<Response> Heartbeat(const HeartbeatRequest& r);
  std::shared_ptr<Response> LeaveGroup(const LeaveGroupRequest& r);
  std::shared_ptr<Response> OffsetCommit(const OffsetCommitRequest& r);
  std::shared_ptr<Response> OffsetFetch(const OffsetFetchRequest& r);
  std::shared_ptr<Response> DescribeGroups(const DescribeGroupsRequest& r);

  // NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS, or kNone if this broker serves `group`.
  Error CheckCoordinator(const std::string& group) const;
  int32_t PartitionFor(const std::string& group) const;
  Group& GetGroup(const std::string& id);
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
  static const char* StateName(State s);

  Runtime& rt_;
  Broker& broker_;
  GroupCoordinatorConfig config_;
  std::map<std::string, Group> groups_;
  std::set<int32_t> owned_;    // __consumer_offsets partitions led and loaded here
  std::set<int32_t> loading_;
  int64_t next_member_ = 0;
  bool creating_offsets_topic_ = false;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_COORDINATOR_GROUP_COORDINATOR_H_
