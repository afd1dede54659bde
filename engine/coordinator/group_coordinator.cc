#include "engine/coordinator/group_coordinator.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/coordinator/coordinator_for.h"
#include "engine/coordinator/offsets_records.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {

GroupCoordinatorConfig GroupCoordinatorConfigFrom(const Config& c) {
  GroupCoordinatorConfig gc;
  gc.offsets_topic_partitions = c.GetInt("offsets.topic.num.partitions");
  gc.offsets_topic_replication_factor = c.GetInt("offsets.topic.replication.factor");
  gc.initial_rebalance_delay_ns = c.GetInt("group.initial.rebalance.delay.ms") * kMillisecond;
  gc.min_session_timeout_ms = c.GetInt("group.min.session.timeout.ms");
  gc.max_session_timeout_ms = c.GetInt("group.max.session.timeout.ms");
  return gc;
}
namespace {

template <typename T>
std::shared_ptr<T> Reply() {
  return std::make_shared<T>();
}

}  // namespace

GroupCoordinator::GroupCoordinator(Runtime& rt, Broker& broker, GroupCoordinatorConfig config)
    : rt_(rt),
      broker_(broker),
      config_(config),
      offsets_retention_ms_(broker.settings().raw.GetLong("offsets.retention.minutes") * 60000),
      retention_check_interval_ns_(
          broker.settings().raw.GetLong("offsets.retention.check.interval.ms") * kMillisecond) {
  KSIM_CHECK(offsets_retention_ms_ > 0);
  KSIM_CHECK(retention_check_interval_ns_ > 0);
}

void GroupCoordinator::Start() {
  rt_.Spawn("group-sessions", [this] { SessionLoop(); });
  rt_.Spawn("group-leadership", [this] { LeadershipLoop(); });
  rt_.Spawn("group-expiration", [this] { ExpirationLoop(); });
  broker_.set_on_topics_deleted(
      [this](const std::vector<std::string>& topics) { OnTopicsDeleted(topics); });
}

const char* GroupCoordinator::StateName(State s) {
  switch (s) {
    case State::kEmpty: return "Empty";
    case State::kPreparingRebalance: return "PreparingRebalance";
    case State::kCompletingRebalance: return "CompletingRebalance";
    case State::kStable: return "Stable";
    case State::kDead: return "Dead";
  }
  return "?";
}

int32_t GroupCoordinator::PartitionFor(const std::string& group) const {
  return CoordinatorPartition(group, config_.offsets_topic_partitions);
}

Error GroupCoordinator::CheckCoordinator(const std::string& group) const {
  const int32_t p = PartitionFor(group);
  if (loading_.count(p) > 0) return Error::kCoordinatorLoadInProgress;
  if (owned_.count(p) == 0) return Error::kNotCoordinator;
  return Error::kNone;
}

GroupCoordinator::Group& GroupCoordinator::GetGroup(const std::string& id) {
  Group& g = groups_[id];
  if (g.id.empty()) {
    g.id = id;
    g.state_timestamp_ms = rt_.Now() / kMillisecond;
  }
  return g;
}

void GroupCoordinator::SetState(Group& g, State s) {
  g.state = s;
  g.state_timestamp_ms = rt_.Now() / kMillisecond;
}

std::optional<std::set<std::string>> GroupCoordinator::SubscribedTopics(const Group& g) {
  if (g.protocol_type != "consumer") return std::nullopt;
  std::set<std::string> topics;
  if (g.members.empty()) return topics;
  if (g.protocol.empty()) return std::nullopt;
  for (const auto& [id, m] : g.members) {
    for (const auto& [name, sub] : m.protocols) {
      if (name == g.protocol) topics.insert(sub.topics.begin(), sub.topics.end());
    }
  }
  return topics;
}

std::shared_ptr<Response> GroupCoordinator::Handle(const RequestPtr& request) {
  switch (request->api()) {
    case ApiKey::kFindCoordinator:
      return FindCoordinator(static_cast<const FindCoordinatorRequest&>(*request));
    case ApiKey::kJoinGroup: return JoinGroup(static_cast<const JoinGroupRequest&>(*request));
    case ApiKey::kSyncGroup: return SyncGroup(static_cast<const SyncGroupRequest&>(*request));
    case ApiKey::kHeartbeat: return Heartbeat(static_cast<const HeartbeatRequest&>(*request));
    case ApiKey::kLeaveGroup: return LeaveGroup(static_cast<const LeaveGroupRequest&>(*request));
    case ApiKey::kOffsetCommit:
      return OffsetCommit(static_cast<const OffsetCommitRequest&>(*request));
    case ApiKey::kOffsetFetch:
      return OffsetFetch(static_cast<const OffsetFetchRequest&>(*request));
    case ApiKey::kDescribeGroups:
      return DescribeGroups(static_cast<const DescribeGroupsRequest&>(*request));
    case ApiKey::kDeleteGroups:
      return DeleteGroups(static_cast<const DeleteGroupsRequest&>(*request));
    case ApiKey::kOffsetDelete:
      return OffsetDelete(static_cast<const OffsetDeleteRequest&>(*request));
    default:
      return nullptr;
  }
}

std::shared_ptr<Response> GroupCoordinator::FindCoordinator(const FindCoordinatorRequest& r) {
  auto resp = Reply<FindCoordinatorResponse>();
  const MetadataCache& md = broker_.metadata();
  if (!md.HasTopic(kOffsetsTopic)) {
    resp->error = Error::kCoordinatorNotAvailable;
    if (!creating_offsets_topic_) {
      // Created on first use, like Kafka's internal topic.
      creating_offsets_topic_ = true;
      auto create = std::make_shared<CreateTopicsRequest>();
      CreatableTopic t;
      t.name = kOffsetsTopic;
      t.num_partitions = config_.offsets_topic_partitions;
      t.replication_factor = static_cast<int16_t>(config_.offsets_topic_replication_factor);
      // Compacted by (group, topic, partition), with Kafka's offsets.topic.segment.bytes.
      t.configs = {{"cleanup.policy", "compact"},
                   {"min.insync.replicas", "1"},
                   {"segment.bytes", std::to_string(broker_.settings().raw.GetInt(
                                         "offsets.topic.segment.bytes"))}};
      create->topics.push_back(t);
      broker_.SubmitToController(create, [this] { creating_offsets_topic_ = false; });
    }
    return resp;
  }
  auto st = md.Partition({kOffsetsTopic, PartitionFor(r.key)});
  if (!st || st->leader == kNoBroker) {
    resp->error = Error::kCoordinatorNotAvailable;
    return resp;
  }
  auto b = md.Broker(st->leader);
  if (!b) {
    resp->error = Error::kCoordinatorNotAvailable;
    return resp;
  }
  resp->node_id = b->id;
  resp->node = b->node;
  resp->host = b->host;
  return resp;
}

bool GroupCoordinator::SupportsProtocols(const Group& g, const std::string& protocol_type,
                                         const Protocols& protocols) {
  if (g.state == State::kEmpty) return !protocol_type.empty() && !protocols.empty();
  if (protocol_type != g.protocol_type) return false;
  // Some protocol of the member must be supported by every current member (the member's own
  // current protocols included when it is already a member, as in Kafka).
  return std::any_of(protocols.begin(), protocols.end(), [&](const auto& proto) {
    return std::all_of(g.members.begin(), g.members.end(), [&](const auto& e) {
      return std::any_of(e.second.protocols.begin(), e.second.protocols.end(),
                         [&](const auto& p) { return p.first == proto.first; });
    });
  });
}

bool GroupCoordinator::SameProtocols(const Protocols& a, const Protocols& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
           return x.first == y.first && x.second.topics == y.second.topics;
         });
}

DurationNs GroupCoordinator::RebalanceTimeout(const Group& g) {
  DurationNs timeout = 0;
  for (const auto& [id, m] : g.members) timeout = std::max(timeout, m.rebalance_timeout_ns);
  return timeout;
}

std::shared_ptr<Response> GroupCoordinator::JoinGroup(const JoinGroupRequest& r) {
  auto resp = Reply<JoinGroupResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    resp->error = e;
    return resp;
  }
  if (r.session_timeout_ms < config_.min_session_timeout_ms ||
      r.session_timeout_ms > config_.max_session_timeout_ms) {
    resp->error = Error::kInvalidSessionTimeout;
    return resp;
  }
  // The group is created only by a JoinGroup without a member id.
  Group* gp = nullptr;
  if (r.member_id.empty()) {
    gp = &GetGroup(r.group_id);
  } else {
    auto git = groups_.find(r.group_id);
    if (git == groups_.end()) {
      resp->error = Error::kUnknownMemberId;
      return resp;
    }
    gp = &git->second;
  }
  Group& g = *gp;
  if (!SupportsProtocols(g, r.protocol_type, r.protocols)) {
    resp->error = Error::kInconsistentGroupProtocol;
    return resp;
  }
  if (r.member_id.empty()) {
    // KIP-394: hand out an id and have the member join again with it. The id is forgotten if
    // the member does not come back within its session timeout.
    // Unique across coordinators and their restarts (Kafka appends a UUID): a member id must
    // never name a different consumer than the one a reloaded group remembers under it.
    std::string id = absl::StrCat(r.client_id.empty() ? "consumer" : r.client_id, "-",
                                  broker_.id(), "-", rt_.Now() / kMicrosecond, "-", ++next_member_);
    g.pending_members[id] = DeadlineAfter(rt_.Now(), r.session_timeout_ms * kMillisecond);
    resp->error = Error::kMemberIdRequired;
    resp->member_id = id;
    return resp;
  }
  const bool pending = g.pending_members.count(r.member_id) > 0;
  auto mit = g.members.find(r.member_id);
  const bool known = mit != g.members.end();
  if (!pending && !known) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  if (known) {
    Member& cur = mit->second;
    const bool same = SameProtocols(cur.protocols, r.protocols);
    // Nothing changed: a Stable follower, or any member while the group awaits the leader's
    // assignment (it may have missed its JoinGroup response), gets the current generation back
    // without a rebalance.
    if (same && ((g.state == State::kStable && cur.id != g.leader) ||
                 g.state == State::kCompletingRebalance)) {
      cur.last_heartbeat = rt_.Now();
      resp->generation_id = g.generation;
      resp->protocol_name = g.protocol;
      resp->leader = g.leader;
      resp->member_id = cur.id;
      if (cur.id == g.leader) {
        for (const auto& [id, mm] : g.members) {
          for (const auto& [name, sub] : mm.protocols) {
            if (name == g.protocol) resp->members.push_back({id, mm.instance_id, sub});
          }
        }
      }
      return resp;
    }
  } else {
    // A pending member becomes a member (addMemberAndRebalance).
    g.pending_members.erase(r.member_id);
    if (g.state == State::kPreparingRebalance && g.generation == 0) g.new_member_added = true;
    if (g.members.empty()) g.protocol_type = r.protocol_type;
  }
  Member& m = g.members[r.member_id];
  m.id = r.member_id;
  m.instance_id = r.group_instance_id;
  m.client_id = r.client_id;
  m.session_timeout_ns = r.session_timeout_ms * kMillisecond;
  m.rebalance_timeout_ns = r.rebalance_timeout_ms * kMillisecond;
  m.protocols = r.protocols;
  m.last_heartbeat = rt_.Now();
  if (g.state != State::kPreparingRebalance) {
    PrepareRebalance(g, absl::StrCat(known ? "member " : "new member ", m.id,
                                     known ? " rejoined" : " joined"));
  }
  m.joined = true;
  m.awaiting_join = true;
  std::shared_ptr<Event> done = g.join_done;
  MaybeCompleteJoin(g, false);
  // The session loop completes the join phase at the rebalance deadline (which an initial
  // delay may push back); the margin only guards against a coordinator that stopped.
  while (!done->is_set()) {
    auto git = groups_.find(r.group_id);
    if (git == groups_.end()) break;
    const TimeNs deadline = DeadlineAfter(git->second.rebalance_deadline, 5 * kSecond);
    if (rt_.Now() >= deadline) break;
    done->Wait(deadline);
  }
  auto git = groups_.find(r.group_id);
  if (git == groups_.end() || git->second.members.count(r.member_id) == 0) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  Group& g2 = git->second;
  Member& m2 = g2.members.at(r.member_id);
  m2.awaiting_join = false;
  if (g2.state != State::kCompletingRebalance && g2.state != State::kStable) {
    resp->error = Error::kRebalanceInProgress;
    return resp;
  }
  resp->generation_id = g2.generation;
  resp->protocol_name = g2.protocol;
  resp->leader = g2.leader;
  resp->member_id = m2.id;
  if (m2.id == g2.leader) {
    for (const auto& [id, mm] : g2.members) {
      for (const auto& [name, sub] : mm.protocols) {
        if (name == g2.protocol) resp->members.push_back({id, mm.instance_id, sub});
      }
    }
  }
  return resp;
}

void GroupCoordinator::PrepareRebalance(Group& g, const std::string& reason) {
  const bool was_empty = g.state == State::kEmpty;
  // Followers parked in SyncGroup are answered REBALANCE_IN_PROGRESS and must rejoin.
  if (g.state == State::kCompletingRebalance && g.sync_done) g.sync_done->Set();
  // A pending-sync expiration is cancelled.
  g.pending_sync.clear();
  g.sync_deadline = 0;
  SetState(g, State::kPreparingRebalance);
  g.join_done = std::make_shared<Event>();
  for (auto& [id, m] : g.members) m.joined = false;
  const DurationNs timeout = RebalanceTimeout(g);
  g.new_member_added = false;
  g.initial_delay = was_empty;
  if (was_empty) {
    // InitialDelayedJoin: wait group.initial.rebalance.delay.ms for more members.
    g.initial_current_delay = config_.initial_rebalance_delay_ns;
    g.initial_remaining = std::max<DurationNs>(timeout - config_.initial_rebalance_delay_ns, 0);
    g.rebalance_deadline = DeadlineAfter(rt_.Now(), g.initial_current_delay);
  } else {
    g.rebalance_deadline = DeadlineAfter(rt_.Now(), timeout);
  }
  rt_.Trace("rebalance", absl::StrCat("group ", g.id, " generation ", g.generation,
                                      " preparing: ", reason));
}

void GroupCoordinator::MaybeCompleteJoin(Group& g, bool deadline_passed) {
  if (g.state != State::kPreparingRebalance) return;
  if (g.initial_delay) {
    // Completes only when the delay expires (a zero delay expires at once).
    if (!deadline_passed && rt_.Now() < g.rebalance_deadline) return;
    if (g.new_member_added && g.initial_remaining > 0) {
      // New members joined during the delay: wait another delay, bounded by what is left of
      // the rebalance timeout.
      g.new_member_added = false;
      const DurationNs delay = std::min(config_.initial_rebalance_delay_ns, g.initial_remaining);
      g.initial_remaining = std::max<DurationNs>(g.initial_remaining - g.initial_current_delay, 0);
      g.initial_current_delay = delay;
      g.rebalance_deadline = DeadlineAfter(rt_.Now(), delay);
      rt_.Trace("rebalance", absl::StrCat("group ", g.id, " initial delay extended by ",
                                          delay / kMillisecond, " ms"));
      return;
    }
  } else if (!deadline_passed) {
    // Every member has rejoined and no member that was handed an id is still to come.
    bool all = g.pending_members.empty();
    for (const auto& [id, m] : g.members) all &= m.joined;
    if (!all) return;
  }
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members) {
    if (!m.joined) gone.push_back(id);
  }
  for (const std::string& id : gone) g.members.erase(id);
  g.initial_delay = false;
  g.new_member_added = false;
  ++g.generation;
  if (g.members.empty()) {
    SetState(g, State::kEmpty);
    g.leader.clear();
    g.protocol.clear();
    g.subscribed_topics = SubscribedTopics(g);
    // As Kafka's onCompleteJoin, the emptied group's metadata is stored (in the background).
    StoreGroup(g, /*wait=*/false);
  } else {
    // The protocol: among those every member supports, the one members prefer most.
    std::map<std::string, int> votes;
    for (const auto& [id, m] : g.members) {
      for (const auto& [name, sub] : m.protocols) {
        bool all_support = std::all_of(g.members.begin(), g.members.end(), [&](const auto& e) {
          return std::any_of(e.second.protocols.begin(), e.second.protocols.end(),
                             [&](const auto& p) { return p.first == name; });
        });
        if (all_support) {
          ++votes[name];
          break;
        }
      }
    }
    // JoinGroup admits only members sharing a protocol with every member, so there is a
    // candidate; the fallback only keeps a broken invariant from dereferencing end().
    if (votes.empty()) {
      const Member& first = g.members.begin()->second;
      g.protocol = first.protocols.empty() ? std::string() : first.protocols.front().first;
    } else {
      g.protocol = std::max_element(votes.begin(), votes.end(), [](const auto& a, const auto& b) {
                     return a.second < b.second;
                   })->first;
    }
    if (g.members.count(g.leader) == 0) g.leader = g.members.begin()->first;
    g.subscribed_topics = SubscribedTopics(g);
    SetState(g, State::kCompletingRebalance);
    g.sync_done = std::make_shared<Event>();
    for (auto& [id, m] : g.members) {
      m.last_heartbeat = rt_.Now();
      g.pending_sync.insert(id);
    }
    // DelayedSync: members that do not sync within the rebalance timeout are removed.
    g.sync_deadline = DeadlineAfter(rt_.Now(), RebalanceTimeout(g));
  }
  rt_.Trace("rebalance", absl::StrCat("group ", g.id, " generation ", g.generation, " ",
                                      StateName(g.state), " members=", g.members.size(),
                                      " leader=", g.leader, " protocol=", g.protocol));
  g.join_done->Set();
}

std::shared_ptr<Response> GroupCoordinator::SyncGroup(const SyncGroupRequest& r) {
  auto resp = Reply<SyncGroupResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    // While loading, the rebalance in progress is lost: have the member rejoin (older clients
    // do not expect COORDINATOR_LOAD_IN_PROGRESS from SyncGroup).
    resp->error = e == Error::kCoordinatorLoadInProgress ? Error::kRebalanceInProgress : e;
    return resp;
  }
  auto git = groups_.find(r.group_id);
  if (git == groups_.end() || git->second.members.count(r.member_id) == 0) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  Group& g = git->second;
  if (r.generation_id != g.generation) {
    resp->error = Error::kIllegalGeneration;
    return resp;
  }
  if (g.state == State::kPreparingRebalance) {
    resp->error = Error::kRebalanceInProgress;
    return resp;
  }
  g.pending_sync.erase(r.member_id);
  if (g.state == State::kCompletingRebalance) {
    if (r.member_id == g.leader) {
      for (auto& [id, m] : g.members) {
        auto a = r.assignments.find(id);
        m.assignment = a == r.assignments.end() ? GroupAssignment{} : a->second;
      }
      const int32_t generation = g.generation;
      const bool stored = StoreGroup(g, /*wait=*/true);
      auto again = groups_.find(r.group_id);
      if (again == groups_.end() || again->second.generation != generation ||
          again->second.state != State::kCompletingRebalance ||
          again->second.members.count(r.member_id) == 0) {
        resp->error = Error::kRebalanceInProgress;
        return resp;
      }
      Group& gs = again->second;
      if (!stored) rt_.Trace("store-group-failed", gs.id);
      SetState(gs, State::kStable);
      rt_.Trace("rebalance", absl::StrCat("group ", gs.id, " generation ", gs.generation,
                                          " stable"));
      gs.sync_done->Set();
    } else {
      // Parked until the leader's assignment arrives or a rebalance starts; a member parked
      // here counts as heartbeating. The pending-sync expiration bounds the wait.
      std::shared_ptr<Event> done = g.sync_done;
      const int32_t generation = g.generation;
      g.members.at(r.member_id).awaiting_sync = true;
      while (!done->is_set()) {
        git = groups_.find(r.group_id);
        if (git == groups_.end()) break;
        const TimeNs deadline =
            DeadlineAfter(std::max(git->second.sync_deadline, rt_.Now()), 5 * kSecond);
        done->Wait(deadline);
        if (!done->is_set() && rt_.Now() >= deadline) break;
      }
      git = groups_.find(r.group_id);
      if (git == groups_.end()) {
        resp->error = Error::kUnknownMemberId;
        return resp;
      }
      auto mit = git->second.members.find(r.member_id);
      if (mit == git->second.members.end()) {
        resp->error = Error::kUnknownMemberId;
        return resp;
      }
      // Answering a parked SyncGroup restarts the member's session (propagateAssignment).
      mit->second.awaiting_sync = false;
      mit->second.last_heartbeat = rt_.Now();
      if (git->second.generation != generation || git->second.state != State::kStable) {
        resp->error = Error::kRebalanceInProgress;
        return resp;
      }
    }
  }
  Group& g2 = groups_.at(r.group_id);
  Member& m = g2.members.at(r.member_id);
  m.last_heartbeat = rt_.Now();
  resp->assignment = m.assignment;
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::Heartbeat(const HeartbeatRequest& r) {
  auto resp = Reply<HeartbeatResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    // While the group is loading, heartbeats are answered blindly.
    resp->error = e == Error::kCoordinatorLoadInProgress ? Error::kNone : e;
    return resp;
  }
  auto git = groups_.find(r.group_id);
  if (git == groups_.end() || git->second.members.count(r.member_id) == 0) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  Group& g = git->second;
  if (r.generation_id != g.generation) {
    resp->error = Error::kIllegalGeneration;
    return resp;
  }
  g.members.at(r.member_id).last_heartbeat = rt_.Now();
  if (g.state == State::kPreparingRebalance) resp->error = Error::kRebalanceInProgress;
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::LeaveGroup(const LeaveGroupRequest& r) {
  auto resp = Reply<LeaveGroupResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    resp->error = e;
    return resp;
  }
  auto git = groups_.find(r.group_id);
  if (git == groups_.end()) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  Group& g = git->second;
  for (const std::string& m : r.members) {
    if (g.pending_members.erase(m) > 0) {
      // A pending member is forgotten; the join phase may have been waiting only for it.
      rt_.Trace("member-removed",
                absl::StrCat("group ", g.id, " pending member ", m, " left the group"));
      MaybeCompleteJoin(g, false);
    } else if (g.members.count(m) > 0) {
      RemoveMember(g, m, "left the group");
    } else if (resp->error == Error::kNone) {
      // Per member since LeaveGroup v3; the single error field reports it like v0-2.
      resp->error = Error::kUnknownMemberId;
    }
  }
  return resp;
}

void GroupCoordinator::RemoveMember(Group& g, const std::string& member,
                                    const std::string& reason) {
  if (g.members.erase(member) == 0) return;
  g.pending_sync.erase(member);
  rt_.Trace("member-removed", absl::StrCat("group ", g.id, " member ", member, " ", reason));
  if (g.state == State::kStable || g.state == State::kCompletingRebalance) {
    PrepareRebalance(g, absl::StrCat("member ", member, " ", reason));
  }
  // Completing the join phase without members empties the group (and stores it).
  if (g.state == State::kPreparingRebalance) MaybeCompleteJoin(g, false);
}

bool GroupCoordinator::StoreGroup(const Group& g, bool wait) {
  // Kafka writes the group's metadata with acks=all when the leader's assignment arrives
  // (before the group turns Stable and the members get their assignments) and when the group
  // empties. If the write fails, a later coordinator does not know the members; they rejoin.
  auto value = std::make_shared<GroupMetadataValue>();
  value->group = g.id;
  value->generation = g.generation;
  value->protocol_type = g.protocol_type;
  value->protocol = g.protocol;
  value->leader = g.leader;
  value->current_state_timestamp_ms = g.state_timestamp_ms;
  for (const auto& [id, m] : g.members) {
    value->members.push_back(GroupMetadataValue::MemberValue{
        m.id, m.instance_id, m.client_id, m.session_timeout_ns, m.rebalance_timeout_ns,
        m.protocols, m.assignment});
  }
  const TopicPartition otp{kOffsetsTopic, PartitionFor(g.id)};
  auto write = [this, value, otp]() -> bool {
    Partition* p = broker_.FindPartition(otp);
    if (p == nullptr || !p->is_leader()) return false;
    RecordBatchBuilder builder;
    builder.Add(0, GroupKeyHash(value->group), GroupKeyBytes(value->group),
                static_cast<int32_t>(64 + 96 * value->members.size()), rt_.Now() / kMillisecond);
    builder.set_payload(value);
    ProducePartitionResponse pr =
        p->Produce(builder.Build(1.0), -1, DeadlineAfter(rt_.Now(), 5 * kSecond));
    rt_.Trace("store-group", absl::StrCat(value->group, " generation ", value->generation, " ",
                                          value->members.size(), " members: ",
                                          ErrorName(pr.error)));
    return pr.error == Error::kNone;
  };
  if (wait) return write();
  rt_.Spawn("store-group", [write] { (void)write(); });
  return true;
}

void GroupCoordinator::ExpirePendingSync(Group& g) {
  g.sync_deadline = 0;
  if (g.state != State::kCompletingRebalance && g.state != State::kStable) return;
  if (g.pending_sync.empty()) return;
  const std::vector<std::string> missing(g.pending_sync.begin(), g.pending_sync.end());
  for (const std::string& id : missing) {
    g.members.erase(id);
    rt_.Trace("member-removed", absl::StrCat("group ", g.id, " member ", id,
                                             " did not sync within the rebalance timeout"));
  }
  g.pending_sync.clear();
  PrepareRebalance(g, absl::StrCat("removing ", absl::StrJoin(missing, ","),
                                   " on pending sync expiration"));
  MaybeCompleteJoin(g, false);
}

std::shared_ptr<Response> GroupCoordinator::OffsetCommit(const OffsetCommitRequest& r) {
  auto resp = Reply<OffsetCommitResponse>();
  auto fail = [&](Error e) {
    for (const auto& [tp, o] : r.offsets) resp->partitions[tp] = e;
    return resp;
  };
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) return fail(e);
  auto git = groups_.find(r.group_id);
  if (git == groups_.end()) {
    // A commit with a generation for a group this coordinator does not know comes from an
    // older generation; without one it is a standalone consumer, which creates the group.
    if (r.generation_id >= 0) return fail(Error::kIllegalGeneration);
    GetGroup(r.group_id);
    git = groups_.find(r.group_id);
  }
  Group& g = git->second;
  if (r.generation_id < 0 && g.state == State::kEmpty) {
    // A consumer without group management (or the admin client) may commit to an empty group.
  } else if (r.generation_id >= 0 || !r.member_id.empty()) {
    if (g.members.count(r.member_id) == 0) return fail(Error::kUnknownMemberId);
    if (r.generation_id != g.generation) return fail(Error::kIllegalGeneration);
  } else {
    // A standalone commit into a group with live members is fenced.
    return fail(Error::kUnknownMemberId);
  }
  if (g.state == State::kCompletingRebalance) return fail(Error::kRebalanceInProgress);
  if (g.state != State::kEmpty) g.members.at(r.member_id).last_heartbeat = rt_.Now();
  // Persist to __consumer_offsets before acknowledging.
  const TopicPartition otp{kOffsetsTopic, PartitionFor(r.group_id)};
  Partition* p = broker_.FindPartition(otp);
  if (p == nullptr || !p->is_leader()) return fail(Error::kNotCoordinator);
  const int64_t now_ms = rt_.Now() / kMillisecond;
  auto value = std::make_shared<OffsetCommitValue>();
  value->group = r.group_id;
  value->generation = g.generation;
  value->commit_timestamp_ms = now_ms;
  value->offsets = r.offsets;
  RecordBatchBuilder builder;
  for (const auto& [tp, o] : r.offsets) {
    builder.Add(0, OffsetKeyHash(r.group_id, tp), OffsetKeyBytes(r.group_id, tp),
                kOffsetValueBytes, now_ms);
    ++g.pending_commits[tp];  // not expired while being written (prepareOffsetCommit)
  }
  builder.set_payload(value);
  ProducePartitionResponse pr =
      p->Produce(builder.Build(1.0), -1, DeadlineAfter(rt_.Now(), 5 * kSecond));
  // The group may have been unloaded, deleted or had these offsets deleted while the append
  // waited for acks: an offset is stored only if it is still pending (onOffsetCommitAppend).
  auto stored = groups_.find(r.group_id);
  for (const auto& [tp, o] : r.offsets) {
    if (stored == groups_.end()) break;
    Group& sg = stored->second;
    auto pit = sg.pending_commits.find(tp);
    if (pit == sg.pending_commits.end()) continue;
    if (pr.error == Error::kNone) sg.offsets[tp] = CommittedOffset{o, now_ms};
    if (--pit->second == 0) sg.pending_commits.erase(pit);
  }
  if (pr.error != Error::kNone) {
    return fail(pr.error == Error::kNotLeaderOrFollower ? Error::kNotCoordinator
                                                        : Error::kRequestTimedOut);
  }
  for (const auto& [tp, o] : r.offsets) resp->partitions[tp] = Error::kNone;
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::OffsetFetch(const OffsetFetchRequest& r) {
  auto resp = Reply<OffsetFetchResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    resp->error = e;
    return resp;
  }
  // Offsets are returned whatever the group's state; an unknown group is not created.
  static const std::map<TopicPartition, CommittedOffset> kNoOffsets;
  auto git = groups_.find(r.group_id);
  const std::map<TopicPartition, CommittedOffset>& offsets =
      git == groups_.end() ? kNoOffsets : git->second.offsets;
  if (r.partitions) {
    for (const TopicPartition& tp : *r.partitions) {
      auto it = offsets.find(tp);
      resp->offsets[tp] = it == offsets.end() ? -1 : it->second.offset;
    }
  } else {
    for (const auto& [tp, c] : offsets) resp->offsets[tp] = c.offset;
  }
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::DescribeGroups(const DescribeGroupsRequest& r) {
  auto resp = Reply<DescribeGroupsResponse>();
  for (const std::string& id : r.groups) {
    DescribeGroupsResponse::Group d;
    d.group_id = id;
    d.error = CheckCoordinator(id);
    auto it = groups_.find(id);
    if (d.error == Error::kNone && it != groups_.end()) {
      const Group& g = it->second;
      const bool stable = g.state == State::kStable;
      d.state = StateName(g.state);
      // GroupMetadata.summary: the protocol and the members' assignments only when Stable.
      if (stable) d.protocol = g.protocol;
      d.generation_id = g.generation;
      for (const auto& [mid, m] : g.members) {
        d.members.push_back({mid, m.client_id, stable ? m.assignment : GroupAssignment{}});
      }
    } else if (d.error == Error::kNone) {
      d.state = "Dead";
    }
    resp->groups.push_back(std::move(d));
  }
  return resp;
}

void GroupCoordinator::SessionLoop() {
  for (;;) {
    rt_.Sleep(100 * kMillisecond);
    const TimeNs now = rt_.Now();
    for (auto& [id, g] : groups_) {
      if (g.state == State::kPreparingRebalance && now >= g.rebalance_deadline) {
        MaybeCompleteJoin(g, true);
      }
      // Pending member ids that were not used within the session timeout.
      bool pending_expired = false;
      for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
        if (now >= it->second) {
          rt_.Trace("member-removed",
                    absl::StrCat("group ", g.id, " pending member ", it->first, " expired"));
          it = g.pending_members.erase(it);
          pending_expired = true;
        } else {
          ++it;
        }
      }
      if (pending_expired) MaybeCompleteJoin(g, false);
      if (g.sync_deadline != 0 && now >= g.sync_deadline) ExpirePendingSync(g);
      std::vector<std::string> expired;
      for (const auto& [mid, m] : g.members) {
        if (!m.awaiting_join && !m.awaiting_sync && now - m.last_heartbeat > m.session_timeout_ns) {
          expired.push_back(mid);
        }
      }
      for (const std::string& mid : expired) RemoveMember(g, mid, "session timed out");
    }
  }
}

void GroupCoordinator::LeadershipLoop() {
  for (;;) {
    rt_.Sleep(100 * kMillisecond);
    for (int32_t p = 0; p < config_.offsets_topic_partitions; ++p) {
      Partition* part = broker_.FindPartition({kOffsetsTopic, p});
      const bool leads = part != nullptr && part->is_leader();
      const bool owned = owned_.count(p) > 0 || loading_.count(p) > 0;
      if (leads && !owned) {
        loading_.insert(p);
        Load(p);
        loading_.erase(p);
        owned_.insert(p);
      } else if (!leads && owned_.count(p) > 0) {
        owned_.erase(p);
        for (auto it = groups_.begin(); it != groups_.end();) {
          if (PartitionFor(it->first) != p) {
            ++it;
            continue;
          }
          if (it->second.join_done) it->second.join_done->Set();
          if (it->second.sync_done) it->second.sync_done->Set();
          it = groups_.erase(it);
        }
        rt_.Trace("coordinator-unload", absl::StrCat(kOffsetsTopic, "-", p));
      }
    }
  }
}

void GroupCoordinator::Load(int32_t partition) {
  Partition* part = broker_.FindPartition({kOffsetsTopic, partition});
  if (part == nullptr) return;
  int64_t offset = part->log().log_start_offset();
  const int64_t end = part->log_end_offset();
  LoadStats stats;
  while (offset < end) {
    auto read = part->log().Read(offset, 1 << 20, end, true);
    if (!read.ok() || read->empty()) break;
    for (const BatchPtr& b : *read) {
      LoadBatch(*b, stats);
      offset = b->last_offset() + 1;
    }
  }
  // A group whose metadata was deleted and whose offsets were all deleted or expired is gone
  // (Kafka loads neither); one with offsets but no metadata is an Empty group of no protocol.
  int64_t gone = 0;
  for (const std::string& id : stats.seen) {
    auto it = groups_.find(id);
    if (it == groups_.end() || stats.with_metadata.count(id) > 0 || HasOffsets(it->second)) {
      continue;
    }
    groups_.erase(it);
    ++gone;
  }
  rt_.Trace("coordinator-load",
            absl::StrCat(kOffsetsTopic, "-", partition, " ", stats.commits, " commits, ",
                         stats.group_records, " group records, ", stats.tombstones,
                         " tombstones, ", gone, " deleted groups"));
}

void GroupCoordinator::LoadBatch(const RecordBatch& b, LoadStats& stats) {
  if (b.payload() == nullptr) return;
  // __consumer_offsets is compacted: a cleaned batch keeps only the records no later record
  // with the same key superseded, and only those apply (the payload is the whole batch's).
  std::set<int64_t> kept;
  for (int32_t i = 0; i < b.record_count(); ++i) kept.insert(b.key_hash(i));
  if (auto v = std::dynamic_pointer_cast<const OffsetCommitValue>(b.payload())) {
    Group& g = GetGroup(v->group);
    stats.seen.insert(v->group);
    for (const auto& [tp, o] : v->offsets) {
      if (kept.count(OffsetKeyHash(v->group, tp)) > 0) {
        g.offsets[tp] = CommittedOffset{o, v->commit_timestamp_ms};
      }
    }
    // Generations keep increasing across coordinators even without group records.
    g.generation = std::max(g.generation, v->generation);
    ++stats.commits;
  } else if (auto t = std::dynamic_pointer_cast<const TombstonesValue>(b.payload())) {
    auto git = groups_.find(t->group);
    if (git == groups_.end()) return;
    Group& g = git->second;
    for (const TopicPartition& tp : t->offsets) {
      if (kept.count(OffsetKeyHash(t->group, tp)) > 0 && g.offsets.erase(tp) > 0) {
        ++stats.tombstones;
      }
    }
    if (t->group_metadata && kept.count(GroupKeyHash(t->group)) > 0) {
      // The group's metadata is deleted: what is left is its offsets (Kafka keeps loaded
      // offsets and loaded group metadata apart).
      Group fresh;
      fresh.id = g.id;
      fresh.state_timestamp_ms = rt_.Now() / kMillisecond;
      fresh.offsets = std::move(g.offsets);
      g = std::move(fresh);
      stats.with_metadata.erase(t->group);
      ++stats.tombstones;
    }
  } else if (auto gm = std::dynamic_pointer_cast<const GroupMetadataValue>(b.payload())) {
    if (kept.count(GroupKeyHash(gm->group)) == 0) return;
    if (gm->generation < GetGroup(gm->group).generation) return;
    RestoreGroup(*gm);
    stats.seen.insert(gm->group);
    stats.with_metadata.insert(gm->group);
    ++stats.group_records;
  }
}

void GroupCoordinator::RestoreGroup(const GroupMetadataValue& gm) {
  Group& g = GetGroup(gm.group);
  g.generation = gm.generation;
  g.protocol_type = gm.protocol_type;
  g.protocol = gm.protocol;
  g.leader = gm.leader;
  g.members.clear();
  g.pending_members.clear();
  g.pending_sync.clear();
  for (const auto& mv : gm.members) {
    Member m;
    m.id = mv.id;
    m.instance_id = mv.instance_id;
    m.client_id = mv.client_id;
    m.session_timeout_ns = mv.session_timeout_ns;
    m.rebalance_timeout_ns = mv.rebalance_timeout_ns;
    m.protocols = mv.protocols;
    m.assignment = mv.assignment;
    m.last_heartbeat = rt_.Now();
    g.members.emplace(mv.id, std::move(m));
  }
  g.state = g.members.empty() ? State::kEmpty : State::kStable;
  // The state's time survives the failover: an Empty group's offsets expire on schedule.
  g.state_timestamp_ms = gm.current_state_timestamp_ms;
  g.subscribed_topics = SubscribedTopics(g);
  g.sync_done = std::make_shared<Event>();
  g.sync_done->Set();
}

}  // namespace ksim
