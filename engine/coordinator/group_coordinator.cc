#include "engine/coordinator/group_coordinator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/coordinator/coordinator_for.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

// The value of a commit record in __consumer_offsets: one batch per OffsetCommit request.
struct OffsetCommitValue : Payload {
  std::string group;
  int32_t generation = 0;  // lets a new coordinator continue the generation sequence
  std::map<TopicPartition, int64_t> offsets;
};

template <typename T>
std::shared_ptr<T> Reply() {
  return std::make_shared<T>();
}

}  // namespace

GroupCoordinator::GroupCoordinator(Runtime& rt, Broker& broker, GroupCoordinatorConfig config)
    : rt_(rt), broker_(broker), config_(config) {}

void GroupCoordinator::Start() {
  rt_.Spawn("group-sessions", [this] { SessionLoop(); });
  rt_.Spawn("group-leadership", [this] { LeadershipLoop(); });
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
  if (g.id.empty()) g.id = id;
  return g;
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
      t.configs = {{"cleanup.policy", "compact"}, {"min.insync.replicas", "1"}};
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
  Group& g = GetGroup(r.group_id);
  if (r.member_id.empty()) {
    // KIP-394: hand out an id and have the member join again with it.
    std::string id = absl::StrCat(r.client_id.empty() ? "consumer" : r.client_id, "-",
                                  broker_.id(), "-", ++next_member_);
    g.pending_members.insert(id);
    resp->error = Error::kMemberIdRequired;
    resp->member_id = id;
    return resp;
  }
  const bool known = g.members.count(r.member_id) > 0;
  if (!known && g.pending_members.count(r.member_id) == 0) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  // Every member must share a protocol with the group.
  if (!g.members.empty()) {
    bool shared = false;
    for (const auto& [name, sub] : r.protocols) {
      bool all = true;
      for (const auto& [id, m] : g.members) {
        if (id == r.member_id) continue;
        all &= std::any_of(m.protocols.begin(), m.protocols.end(),
                           [&](const auto& p) { return p.first == name; });
      }
      shared |= all;
    }
    if (!shared) {
      resp->error = Error::kInconsistentGroupProtocol;
      return resp;
    }
  }
  g.pending_members.erase(r.member_id);
  Member& m = g.members[r.member_id];
  const bool changed = !known || m.protocols.size() != r.protocols.size() ||
                       !std::equal(m.protocols.begin(), m.protocols.end(), r.protocols.begin(),
                                   [](const auto& a, const auto& b) {
                                     return a.first == b.first &&
                                            a.second.topics == b.second.topics;
                                   });
  m.id = r.member_id;
  m.instance_id = r.group_instance_id;
  m.client_id = r.client_id;
  m.session_timeout_ns = r.session_timeout_ms * kMillisecond;
  m.rebalance_timeout_ns = r.rebalance_timeout_ms * kMillisecond;
  m.protocols = r.protocols;
  m.last_heartbeat = rt_.Now();
  if (g.state == State::kStable && !changed && m.id != g.leader) {
    // Nothing changed: answer with the current generation, no rebalance.
    resp->generation_id = g.generation;
    resp->protocol_name = g.protocol;
    resp->leader = g.leader;
    resp->member_id = m.id;
    return resp;
  }
  if (g.state != State::kPreparingRebalance) {
    PrepareRebalance(g, absl::StrCat(known ? "member " : "new member ", m.id,
                                     known ? " rejoined" : " joined"));
  }
  m.joined = true;
  m.awaiting_join = true;
  std::shared_ptr<Event> done = g.join_done;
  MaybeCompleteJoin(g, false);
  done->Wait(DeadlineAfter(rt_.Now(), m.rebalance_timeout_ns + 5 * kSecond));
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
  g.state = State::kPreparingRebalance;
  g.join_done = std::make_shared<Event>();
  for (auto& [id, m] : g.members) m.joined = false;
  DurationNs timeout = 0;
  for (const auto& [id, m] : g.members) timeout = std::max(timeout, m.rebalance_timeout_ns);
  // The first rebalance of an empty group waits for more members (InitialDelayedJoin).
  g.rebalance_deadline =
      rt_.Now() + (was_empty ? std::min(config_.initial_rebalance_delay_ns, timeout) : timeout);
  rt_.Trace("rebalance", absl::StrCat("group ", g.id, " generation ", g.generation,
                                      " preparing: ", reason));
}

void GroupCoordinator::MaybeCompleteJoin(Group& g, bool deadline_passed) {
  if (g.state != State::kPreparingRebalance) return;
  bool all = true;
  for (const auto& [id, m] : g.members) all &= m.joined;
  const bool initial_delay = g.generation == 0 && !deadline_passed;
  if (!(all && !initial_delay) && !deadline_passed) return;
  std::vector<std::string> gone;
  for (const auto& [id, m] : g.members) {
    if (!m.joined) gone.push_back(id);
  }
  for (const std::string& id : gone) g.members.erase(id);
  ++g.generation;
  if (g.members.empty()) {
    g.state = State::kEmpty;
    g.leader.clear();
    g.protocol.clear();
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
    g.protocol = std::max_element(votes.begin(), votes.end(), [](const auto& a, const auto& b) {
                   return a.second < b.second;
                 })->first;
    if (g.members.count(g.leader) == 0) g.leader = g.members.begin()->first;
    g.state = State::kCompletingRebalance;
    g.sync_done = std::make_shared<Event>();
    for (auto& [id, m] : g.members) m.last_heartbeat = rt_.Now();
  }
  rt_.Trace("rebalance", absl::StrCat("group ", g.id, " generation ", g.generation, " ",
                                      StateName(g.state), " members=", g.members.size(),
                                      " leader=", g.leader, " protocol=", g.protocol));
  g.join_done->Set();
}

std::shared_ptr<Response> GroupCoordinator::SyncGroup(const SyncGroupRequest& r) {
  auto resp = Reply<SyncGroupResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    resp->error = e;
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
  if (g.state == State::kCompletingRebalance) {
    if (r.member_id == g.leader) {
      for (auto& [id, m] : g.members) {
        auto a = r.assignments.find(id);
        m.assignment = a == r.assignments.end() ? GroupAssignment{} : a->second;
      }
      g.state = State::kStable;
      rt_.Trace("rebalance", absl::StrCat("group ", g.id, " generation ", g.generation,
                                          " stable"));
      g.sync_done->Set();
    } else {
      std::shared_ptr<Event> done = g.sync_done;
      const int32_t generation = g.generation;
      done->Wait(DeadlineAfter(rt_.Now(), g.members.at(r.member_id).session_timeout_ns));
      git = groups_.find(r.group_id);
      if (git == groups_.end() || git->second.members.count(r.member_id) == 0) {
        resp->error = Error::kUnknownMemberId;
        return resp;
      }
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
    resp->error = e;
    return resp;
  }
  auto git = groups_.find(r.group_id);
  if (git == groups_.end() || git->second.members.count(r.member_id) == 0) {
    resp->error = Error::kUnknownMemberId;
    return resp;
  }
  Group& g = git->second;
  g.members.at(r.member_id).last_heartbeat = rt_.Now();
  if (r.generation_id != g.generation) {
    resp->error = Error::kIllegalGeneration;
  } else if (g.state == State::kPreparingRebalance) {
    resp->error = Error::kRebalanceInProgress;
  }
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
  for (const std::string& m : r.members) RemoveMember(git->second, m, "left the group");
  return resp;
}

void GroupCoordinator::RemoveMember(Group& g, const std::string& member,
                                    const std::string& reason) {
  if (g.members.erase(member) == 0) return;
  rt_.Trace("member-removed", absl::StrCat("group ", g.id, " member ", member, " ", reason));
  if (g.state == State::kStable || g.state == State::kCompletingRebalance) {
    if (g.sync_done) g.sync_done->Set();
    PrepareRebalance(g, absl::StrCat("member ", member, " ", reason));
  }
  if (g.state == State::kPreparingRebalance) MaybeCompleteJoin(g, false);
  if (g.members.empty() && g.state != State::kPreparingRebalance) g.state = State::kEmpty;
}

std::shared_ptr<Response> GroupCoordinator::OffsetCommit(const OffsetCommitRequest& r) {
  auto resp = Reply<OffsetCommitResponse>();
  auto fail = [&](Error e) {
    for (const auto& [tp, o] : r.offsets) resp->partitions[tp] = e;
    return resp;
  };
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) return fail(e);
  Group& g = GetGroup(r.group_id);
  if (r.generation_id >= 0 || !r.member_id.empty()) {
    if (g.members.count(r.member_id) == 0) return fail(Error::kUnknownMemberId);
    if (r.generation_id != g.generation) return fail(Error::kIllegalGeneration);
    if (g.state == State::kCompletingRebalance) return fail(Error::kRebalanceInProgress);
    g.members.at(r.member_id).last_heartbeat = rt_.Now();
  } else if (!g.members.empty()) {
    // A standalone commit into a group with live members is fenced.
    return fail(Error::kUnknownMemberId);
  }
  // Persist to __consumer_offsets before acknowledging.
  const TopicPartition otp{kOffsetsTopic, PartitionFor(r.group_id)};
  Partition* p = broker_.FindPartition(otp);
  if (p == nullptr || !p->is_leader()) return fail(Error::kNotCoordinator);
  auto value = std::make_shared<OffsetCommitValue>();
  value->group = r.group_id;
  value->generation = g.generation;
  value->offsets = r.offsets;
  RecordBatchBuilder builder;
  for (const auto& [tp, o] : r.offsets) {
    builder.Add(0, 0, static_cast<int32_t>(r.group_id.size() + tp.topic.size() + 8), 24,
                rt_.Now() / kMillisecond);
  }
  builder.set_payload(value);
  ProducePartitionResponse pr =
      p->Produce(builder.Build(1.0), -1, DeadlineAfter(rt_.Now(), 5 * kSecond));
  if (pr.error != Error::kNone) {
    return fail(pr.error == Error::kNotLeaderOrFollower ? Error::kNotCoordinator
                                                        : Error::kRequestTimedOut);
  }
  for (const auto& [tp, o] : r.offsets) {
    groups_[r.group_id].offsets[tp] = o;
    resp->partitions[tp] = Error::kNone;
  }
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::OffsetFetch(const OffsetFetchRequest& r) {
  auto resp = Reply<OffsetFetchResponse>();
  if (Error e = CheckCoordinator(r.group_id); e != Error::kNone) {
    resp->error = e;
    return resp;
  }
  const Group& g = GetGroup(r.group_id);
  if (r.partitions) {
    for (const TopicPartition& tp : *r.partitions) {
      auto it = g.offsets.find(tp);
      resp->offsets[tp] = it == g.offsets.end() ? -1 : it->second;
    }
  } else {
    resp->offsets = g.offsets;
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
      d.state = StateName(it->second.state);
      d.protocol = it->second.protocol;
      d.generation_id = it->second.generation;
      for (const auto& [mid, m] : it->second.members) {
        d.members.push_back({mid, m.client_id, m.assignment});
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
      std::vector<std::string> expired;
      for (const auto& [mid, m] : g.members) {
        if (!m.awaiting_join && now - m.last_heartbeat > m.session_timeout_ns) {
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
  int64_t commits = 0;
  while (offset < end) {
    auto read = part->log().Read(offset, 1 << 20, end, true);
    if (!read.ok() || read->empty()) break;
    for (const BatchPtr& b : *read) {
      if (auto v = std::dynamic_pointer_cast<const OffsetCommitValue>(b->payload())) {
        Group& g = GetGroup(v->group);
        for (const auto& [tp, o] : v->offsets) g.offsets[tp] = o;
        // Membership is not persisted, but generations keep increasing across coordinators.
        g.generation = std::max(g.generation, v->generation);
        ++commits;
      }
      offset = b->last_offset() + 1;
    }
  }
  rt_.Trace("coordinator-load", absl::StrCat(kOffsetsTopic, "-", partition, " ", commits,
                                             " commits"));
}

}  // namespace ksim
