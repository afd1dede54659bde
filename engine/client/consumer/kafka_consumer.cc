#include "engine/client/consumer/kafka_consumer.h"

#include <algorithm>
#include <regex>

#include "absl/strings/str_cat.h"
#include "engine/client/consumer/assignor.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {

KafkaConsumer::KafkaConsumer(Runtime& rt, Config config, std::vector<NodeId> bootstrap,
                             std::string client_id)
    : rt_(rt),
      config_(std::move(config)),
      client_id_(std::move(client_id)),
      group_id_(config_.GetString("group.id")),
      metadata_(rt, std::move(bootstrap), client_id_,
                config_.GetLong("metadata.max.age.ms") * kMillisecond,
                config_.GetLong("retry.backoff.ms") * kMillisecond) {
  alive_ = std::make_shared<bool>(true);
  last_poll_ = rt_.Now();
  last_auto_commit_ = rt_.Now();
}

KafkaConsumer::~KafkaConsumer() { *alive_ = false; }

void KafkaConsumer::Subscribe(std::vector<std::string> topics, ConsumerRebalanceListener* l) {
  KSIM_CHECK_MSG(!group_id_.empty(), "subscribe() needs group.id");
  topics_ = std::move(topics);
  pattern_.clear();
  listener_ = l;
  manual_ = false;
  needs_rejoin_ = true;
  for (const std::string& t : topics_) metadata_.AddTopic(t);
  if (generation_ < 0 && member_id_.empty()) {
    auto alive = alive_;
    rt_.Spawn("consumer-heartbeat/" + client_id_, [this, alive] { HeartbeatLoop(alive); });
  }
}

void KafkaConsumer::SubscribePattern(std::string regex, ConsumerRebalanceListener* l) {
  Subscribe({}, l);
  pattern_ = std::move(regex);
  metadata_.WantAllTopics();
}

void KafkaConsumer::Assign(std::vector<TopicPartition> partitions) {
  manual_ = true;
  topics_.clear();
  pattern_.clear();
  SetAssignment(partitions);
  for (const auto& tp : partitions) metadata_.AddTopic(tp.topic);
}

void KafkaConsumer::Unsubscribe() {
  topics_.clear();
  pattern_.clear();
  SetAssignment({});
}

std::vector<std::string> KafkaConsumer::SubscribedTopics() {
  if (pattern_.empty()) return topics_;
  std::vector<std::string> out;
  std::regex re(pattern_);
  // Topics known to the cluster (metadata of all topics is fetched) that match.
  for (const std::string& t : metadata_.AllTopics()) {
    if (std::regex_match(t, re)) out.push_back(t);
  }
  return out;
}

RpcClient& KafkaConsumer::ClientFor(NodeId node) {
  auto& c = clients_[node];
  if (c == nullptr) c = std::make_unique<RpcClient>(rt_, node, client_id_);
  return *c;
}

bool KafkaConsumer::EnsureCoordinator(TimeNs deadline) {
  while (coordinator_ == kNoNode && rt_.Now() < deadline) {
    metadata_.MaybeRefresh(deadline);
    bool asked = false;
    for (const auto& [id, b] : metadata_.brokers()) {
      auto req = std::make_shared<FindCoordinatorRequest>();
      req->key = group_id_;
      auto resp = ClientFor(b.node).Call(req, std::min(deadline, DeadlineAfter(rt_.Now(), 5 * kSecond)));
      asked = true;
      if (!resp.ok() || (*resp)->api() != ApiKey::kFindCoordinator || IsErrorResponse(**resp)) {
        continue;
      }
      const auto& r = static_cast<const FindCoordinatorResponse&>(**resp);
      if (r.error == Error::kNone) {
        coordinator_ = r.node;
        break;
      }
      break;  // the broker answered: retry after backoff
    }
    if (!asked) metadata_.RequestUpdate();
    if (coordinator_ == kNoNode) rt_.Sleep(config_.GetLong("retry.backoff.ms") * kMillisecond);
  }
  return coordinator_ != kNoNode;
}

absl::StatusOr<ResponsePtr> KafkaConsumer::CallCoordinator(std::shared_ptr<Request> r,
                                                           TimeNs deadline) {
  if (!EnsureCoordinator(deadline)) return absl::DeadlineExceededError("no coordinator");
  auto resp = ClientFor(coordinator_).Call(
      std::move(r), std::min(deadline, DeadlineAfter(rt_.Now(), config_.GetInt("request.timeout.ms") *
                                                                      kMillisecond)));
  if (!resp.ok()) coordinator_ = kNoNode;
  return resp;
}

void KafkaConsumer::SetAssignment(const std::vector<TopicPartition>& parts) {
  std::map<TopicPartition, PartitionState> next;
  for (const TopicPartition& tp : parts) {
    auto it = assigned_.find(tp);
    next[tp] = it == assigned_.end() ? PartitionState{} : it->second;
  }
  assigned_ = std::move(next);
  std::erase_if(completed_,
                [this](const CompletedFetch& f) { return assigned_.count(f.tp) == 0; });
}

std::map<std::string, GroupAssignment> KafkaConsumer::ComputeAssignment(
    const std::string& protocol, const std::vector<JoinGroupMember>& members) {
  auto assignor = FindAssignor(protocol);
  KSIM_CHECK_MSG(assignor != nullptr, "the group chose an assignor this member offered");
  std::map<std::string, int32_t> partitions_per_topic;
  std::map<std::string, Subscription> subs;
  for (const JoinGroupMember& m : members) {
    Subscription s;
    s.topics = m.subscription.topics;
    s.owned_partitions = m.subscription.owned_partitions;
    s.generation = m.subscription.generation;
    s.group_instance_id = m.group_instance_id;
    subs[m.member_id] = s;
    for (const std::string& t : m.subscription.topics) {
      metadata_.AddTopic(t);
    }
  }
  metadata_.Refresh(DeadlineAfter(rt_.Now(), 5 * kSecond));
  for (const auto& [id, s] : subs) {
    for (const std::string& t : s.topics) {
      if (int32_t n = metadata_.PartitionCount(t); n > 0) partitions_per_topic[t] = n;
    }
  }
  // The leader remembers what it assigned from (Kafka's metadata snapshot): if a subscribed
  // topic's partition count changes later, it rejoins so the group rebalances.
  assigned_partition_counts_ = partitions_per_topic;
  std::map<std::string, GroupAssignment> out;
  for (const auto& [member, a] : assignor->Assign(partitions_per_topic, subs)) {
    out[member].partitions = a.partitions;
  }
  return out;
}

void KafkaConsumer::MaybeRejoinOnMetadataChange() {
  // Kafka's ConsumerCoordinator: the leader compares the subscribed topics' partition counts
  // with those it assigned from, and requests a rebalance when one changed.
  if (!is_leader_ || generation_ < 0 || needs_rejoin_ || group_id_.empty()) return;
  for (const auto& [topic, count] : assigned_partition_counts_) {
    const int32_t now = metadata_.PartitionCount(topic);
    if (now > 0 && now != count) {
      rt_.Trace("partition-count-changed",
                absl::StrCat(client_id_, " ", topic, " ", count, " -> ", now, ": rejoin"));
      needs_rejoin_ = true;
      return;
    }
  }
}

absl::Status KafkaConsumer::JoinAndSync(TimeNs deadline) {
  std::vector<TopicPartition> owned = assignment();
  const std::vector<TopicPartition> previous = owned;
  std::vector<std::string> strategies = config_.GetList("partition.assignment.strategy");
  const bool cooperative = !strategies.empty() && IsCooperative(strategies.front());
  if (!cooperative && !owned.empty()) {
    // Eager: give everything back before rejoining.
    if (listener_ != nullptr) listener_->OnPartitionsRevoked(owned);
    SetAssignment({});
    owned.clear();
  }
  auto join = std::make_shared<JoinGroupRequest>();
  join->group_id = group_id_;
  join->session_timeout_ms = config_.GetInt("session.timeout.ms");
  join->rebalance_timeout_ms = config_.GetInt("max.poll.interval.ms");
  join->member_id = member_id_;
  join->group_instance_id = config_.GetString("group.instance.id");
  GroupSubscription sub;
  sub.topics = SubscribedTopics();
  sub.owned_partitions = owned;
  sub.generation = generation_;
  for (const std::string& s : strategies) {
    GroupSubscription protocol_sub = sub;
    // The eager StickyAssignor carries the member's previous assignment and generation in its
    // user data (StickyAssignorUserData), so it stays sticky although eager members give
    // everything back before rejoining.
    if (AssignorName(s) == "sticky") protocol_sub.owned_partitions = previous;
    join->protocols.push_back({AssignorName(s), std::move(protocol_sub)});
  }
  auto resp = CallCoordinator(join, DeadlineAfter(rt_.Now(), 2 * join->rebalance_timeout_ms * kMillisecond));
  if (!resp.ok()) return resp.status();
  if (IsErrorResponse(**resp)) return absl::UnavailableError("coordinator error");
  const auto& jr = static_cast<const JoinGroupResponse&>(**resp);
  if (jr.error == Error::kMemberIdRequired) {
    member_id_ = jr.member_id;
    return absl::UnavailableError("MEMBER_ID_REQUIRED");
  }
  if (jr.error == Error::kUnknownMemberId || jr.error == Error::kIllegalGeneration) {
    member_id_.clear();
    generation_ = -1;
    return absl::UnavailableError(std::string(ErrorName(jr.error)));
  }
  if (jr.error == Error::kNotCoordinator || jr.error == Error::kCoordinatorNotAvailable ||
      jr.error == Error::kCoordinatorLoadInProgress) {
    coordinator_ = kNoNode;
    return absl::UnavailableError(std::string(ErrorName(jr.error)));
  }
  if (jr.error != Error::kNone) return absl::UnavailableError(std::string(ErrorName(jr.error)));
  member_id_ = jr.member_id;
  auto sync = std::make_shared<SyncGroupRequest>();
  sync->group_id = group_id_;
  sync->generation_id = jr.generation_id;
  sync->member_id = member_id_;
  is_leader_ = jr.leader == member_id_;
  if (is_leader_) sync->assignments = ComputeAssignment(jr.protocol_name, jr.members);
  auto sresp = CallCoordinator(sync, DeadlineAfter(rt_.Now(), 60 * kSecond));
  if (!sresp.ok()) return sresp.status();
  if (IsErrorResponse(**sresp)) return absl::UnavailableError("coordinator error");
  const auto& sr = static_cast<const SyncGroupResponse&>(**sresp);
  if (sr.error != Error::kNone) {
    if (sr.error == Error::kUnknownMemberId) member_id_.clear();
    return absl::UnavailableError(std::string(ErrorName(sr.error)));
  }
  generation_ = jr.generation_id;
  std::vector<TopicPartition> mine = sr.assignment.partitions;
  std::sort(mine.begin(), mine.end());
  std::vector<TopicPartition> revoked, added;
  for (const auto& tp : owned) {
    if (!std::binary_search(mine.begin(), mine.end(), tp)) revoked.push_back(tp);
  }
  for (const auto& tp : mine) {
    if (std::find(owned.begin(), owned.end(), tp) == owned.end()) added.push_back(tp);
  }
  if (!revoked.empty() && listener_ != nullptr) listener_->OnPartitionsRevoked(revoked);
  SetAssignment(mine);
  if (observer_ != nullptr) observer_->OnAssignment(client_id_, group_id_, generation_, mine);
  if (listener_ != nullptr) listener_->OnPartitionsAssigned(added);
  // Cooperative: partitions given up in this round are handed over by a follow-up rebalance.
  needs_rejoin_ = cooperative && !revoked.empty();
  rt_.Trace("consumer-assigned", absl::StrCat(client_id_, " generation ", generation_, " ",
                                              mine.size(), " partitions"));
  return absl::OkStatus();
}

absl::Status KafkaConsumer::EnsureActiveGroup(TimeNs deadline) {
  if (manual_ || group_id_.empty() || (topics_.empty() && pattern_.empty())) return absl::OkStatus();
  while (needs_rejoin_ && rt_.Now() < deadline && !woken_) {
    MutexLock lock(coordinator_mu_);
    rejoining_ = true;
    absl::Status s = JoinAndSync(deadline);
    rejoining_ = false;
    if (s.ok()) {
      if (!needs_rejoin_) break;
      continue;
    }
    if (s.message() != "MEMBER_ID_REQUIRED") {
      rt_.Sleep(config_.GetLong("retry.backoff.ms") * kMillisecond);
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumer::ResolvePositions(TimeNs deadline) {
  std::vector<TopicPartition> missing;
  for (const auto& [tp, st] : assigned_) {
    if (!st.position) missing.push_back(tp);
  }
  if (missing.empty()) return absl::OkStatus();
  std::map<TopicPartition, int64_t> committed;
  if (!group_id_.empty()) {
    auto req = std::make_shared<OffsetFetchRequest>();
    req->group_id = group_id_;
    req->partitions = missing;
    auto resp = CallCoordinator(req, deadline);
    if (!resp.ok() || IsErrorResponse(**resp)) {
      rt_.Trace("consumer-offset-fetch", absl::StrCat(client_id_, " failed: ",
                                                      resp.ok() ? "error response"
                                                                : std::string(resp.status().message())));
      return absl::OkStatus();  // retry next poll
    }
    const auto& r = static_cast<const OffsetFetchResponse&>(**resp);
    if (r.error != Error::kNone) {
      rt_.Trace("consumer-offset-fetch", absl::StrCat(client_id_, " ", ErrorName(r.error)));
      if (r.error == Error::kNotCoordinator) coordinator_ = kNoNode;
      return absl::OkStatus();
    }
    committed = r.offsets;
  }
  const std::string reset = config_.GetString("auto.offset.reset");
  for (const TopicPartition& tp : missing) {
    auto c = committed.find(tp);
    if (c != committed.end() && c->second >= 0) {
      assigned_[tp].position = c->second;
      continue;
    }
    if (reset == "none") {
      return absl::InvalidArgumentError(absl::StrCat(
          "Undefined offset with no reset policy for partitions: [", tp.ToString(), "]"));
    }
    const NodeId node = metadata_.NodeOf(metadata_.Leader(tp));
    if (node == kNoNode) {
      metadata_.RequestUpdate();
      continue;
    }
    auto req = std::make_shared<ListOffsetsRequest>();
    req->timestamps[tp] = reset == "earliest" ? kEarliestTimestamp : kLatestTimestamp;
    auto resp = ClientFor(node).Call(req, std::min(deadline, DeadlineAfter(rt_.Now(), 5 * kSecond)));
    if (!resp.ok() || (*resp)->api() != ApiKey::kListOffsets) continue;
    const auto& lr = static_cast<const ListOffsetsResponse&>(**resp);
    auto it = lr.partitions.find(tp);
    if (it != lr.partitions.end() && it->second.error == Error::kNone) {
      assigned_[tp].position = it->second.offset;
    } else {
      metadata_.RequestUpdate();
    }
  }
  return absl::OkStatus();
}

void KafkaConsumer::FetchRound(TimeNs deadline) {
  std::map<NodeId, std::shared_ptr<FetchRequest>> by_node;
  for (auto& [tp, st] : assigned_) {
    if (!st.position) continue;
    if (!st.fetch_position) st.fetch_position = st.position;
    const NodeId node = metadata_.NodeOf(metadata_.Leader(tp));
    if (node == kNoNode) {
      metadata_.RequestUpdate();
      continue;
    }
    if (pending_fetches_.count(node) > 0) continue;  // one in flight per broker
    auto& req = by_node[node];
    if (req == nullptr) {
      req = std::make_shared<FetchRequest>();
      req->max_wait_ms = static_cast<int32_t>(std::min<int64_t>(
          config_.GetInt("fetch.max.wait.ms"),
          std::max<int64_t>(0, (deadline - rt_.Now()) / kMillisecond)));
      req->min_bytes = config_.GetInt("fetch.min.bytes");
      req->max_bytes = config_.GetInt("fetch.max.bytes");
    }
    FetchPartition fp;
    fp.fetch_offset = *st.fetch_position;
    fp.current_leader_epoch = metadata_.LeaderEpoch(tp);
    fp.partition_max_bytes = config_.GetInt("max.partition.fetch.bytes");
    req->partitions[tp] = fp;
  }
  for (auto& [node, req] : by_node) {
    Promise<absl::StatusOr<ResponsePtr>> p;
    pending_fetches_[node] = PendingFetch{req, p.GetFuture()};
    RpcClient* client = &ClientFor(node);
    auto alive = alive_;
    auto done = fetch_done_;
    const TimeNs call_deadline =
        DeadlineAfter(rt_.Now(), config_.GetInt("request.timeout.ms") * kMillisecond);
    rt_.Spawn("consumer-fetch", [client, req, p, alive, done, call_deadline]() mutable {
      auto r = client->Call(req, call_deadline);
      if (!*alive) return;
      p.Set(std::move(r));
      done->Set();
    });
  }
  // Wait until some fetch completes or the poll's deadline, never for a slow broker alone.
  for (;;) {
    bool any = false;
    for (const auto& [node, pf] : pending_fetches_) any |= pf.response.ready();
    if (any || pending_fetches_.empty() || rt_.Now() >= deadline) break;
    fetch_done_ = std::make_shared<Event>();
    // Fibers already running hold the old event: re-check readiness after a short wait.
    fetch_done_->Wait(std::min(deadline, DeadlineAfter(rt_.Now(), 10 * kMillisecond)));
  }
  for (auto it = pending_fetches_.begin(); it != pending_fetches_.end();) {
    if (!it->second.response.ready()) {
      ++it;
      continue;
    }
    const auto r = it->second.response.Get();
    const std::shared_ptr<FetchRequest> request = std::move(it->second.request);
    const std::map<TopicPartition, FetchPartition>& it_request_partitions = request->partitions;
    it = pending_fetches_.erase(it);
    if (!r.ok() || (*r)->api() != ApiKey::kFetch) {
      metadata_.RequestUpdate();
      continue;
    }
    for (const auto& [tp, pr] : static_cast<const FetchResponse&>(**r).partitions) {
      auto st = assigned_.find(tp);
      if (st == assigned_.end() || !st->second.fetch_position) continue;  // revoked meanwhile
      auto sent = it_request_partitions.find(tp);
      if (sent == it_request_partitions.end() ||
          sent->second.fetch_offset != *st->second.fetch_position) {
        continue;  // the position moved (seek, reset) since this fetch was sent
      }
      if (pr.error == Error::kOffsetOutOfRange) {
        st->second.position.reset();  // auto.offset.reset applies at the next poll
        st->second.fetch_position.reset();
        continue;
      }
      if (pr.error != Error::kNone) {
        if (InvalidatesMetadata(pr.error)) metadata_.RequestUpdate();
        continue;
      }
      // Record o of batch b is b->base_offset() + i for i < record_count(); those in
      // [fetch position, HW) are returned, by DrainCompleted.
      const int64_t start = *st->second.fetch_position;
      int64_t pos = start;
      for (const BatchPtr& b : pr.batches) {
        const int64_t last = std::min<int64_t>(b->base_offset() + b->record_count() - 1,
                                               pr.high_watermark - 1);
        if (last >= std::max(pos, b->base_offset())) pos = last + 1;
      }
      if (pos == start) continue;
      st->second.fetch_position = pos;
      completed_.push_back(CompletedFetch{tp, pr.batches, 0, start, pos});
    }
  }
}

void KafkaConsumer::DrainCompleted(size_t max, std::vector<ConsumerRecord>& out) {
  while (!completed_.empty() && out.size() < max) {
    CompletedFetch& f = completed_.front();
    auto st = assigned_.find(f.tp);
    while (f.batch < f.batches.size() && f.next_offset < f.end_offset && out.size() < max) {
      const RecordBatch& b = *f.batches[f.batch];
      const int64_t end = b.base_offset() + b.record_count();
      if (f.next_offset >= end) {
        ++f.batch;
        continue;
      }
      const int64_t o = std::max(f.next_offset, b.base_offset());
      if (o >= f.end_offset) {
        f.batch = f.batches.size();
        break;
      }
      const auto i = static_cast<int32_t>(o - b.base_offset());
      out.push_back({f.tp, o, b.record_id(i), b.max_timestamp_ms(), b.value_size(i)});
      f.next_offset = o + 1;
      if (st != assigned_.end()) st->second.position = o + 1;
      if (observer_ != nullptr) observer_->OnPoll(client_id_, group_id_, generation_, out.back());
    }
    if (f.batch >= f.batches.size() || f.next_offset >= f.end_offset) completed_.pop_front();
  }
}

absl::StatusOr<std::vector<ConsumerRecord>> KafkaConsumer::Poll(DurationNs timeout) {
  const TimeNs deadline = DeadlineAfter(rt_.Now(), timeout);
  last_poll_ = rt_.Now();
  do {
    if (woken_) {
      woken_ = false;
      return absl::CancelledError("WakeupException");
    }
    MaybeAutoCommit();
    if (absl::Status s = EnsureActiveGroup(deadline); !s.ok()) return s;
    metadata_.MaybeRefresh(deadline);
    MaybeRejoinOnMetadataChange();
    if (absl::Status s = ResolvePositions(deadline); !s.ok()) return s;
    if (completed_.empty()) {
      const bool had_pending = !pending_fetches_.empty();
      const TimeNs round_start = rt_.Now();
      FetchRound(deadline);
      // Nothing could be fetched (no known leader, no position yet) and nothing is in flight:
      // back off instead of spinning at one instant of virtual time.
      if (completed_.empty() && !had_pending && pending_fetches_.empty() &&
          rt_.Now() == round_start && !assigned_.empty() && rt_.Now() < deadline) {
        rt_.SleepUntil(std::min(
            deadline,
            DeadlineAfter(rt_.Now(), config_.GetLong("retry.backoff.ms") * kMillisecond)));
      }
    }
    if (!completed_.empty()) {
      std::vector<ConsumerRecord> out;
      DrainCompleted(static_cast<size_t>(config_.GetInt("max.poll.records")), out);
      last_poll_ = rt_.Now();
      return out;
    }
    if (assigned_.empty() && rt_.Now() < deadline) {
      rt_.SleepUntil(std::min(deadline, DeadlineAfter(rt_.Now(), 100 * kMillisecond)));
    }
  } while (rt_.Now() < deadline);
  last_poll_ = rt_.Now();
  return std::vector<ConsumerRecord>{};
}

absl::Status KafkaConsumer::CommitSync(std::optional<std::map<TopicPartition, int64_t>> offsets) {
  return CommitInTurn(MakeCommit(std::move(offsets)));
}

KafkaConsumer::PendingCommit KafkaConsumer::MakeCommit(
    std::optional<std::map<TopicPartition, int64_t>> offsets) {
  PendingCommit c;
  if (offsets) {
    c.offsets = *offsets;
  } else {
    for (const auto& [tp, st] : assigned_) {
      if (st.position) c.offsets[tp] = *st.position;
    }
  }
  c.generation = manual_ ? -1 : generation_;
  c.member_id = manual_ ? "" : member_id_;
  c.ticket = next_commit_ticket_++;
  return c;
}

absl::Status KafkaConsumer::CommitInTurn(const PendingCommit& commit) {
  auto alive = alive_;
  while (serving_commit_ticket_ != commit.ticket) {
    commit_turn_.Wait(kForever);
    if (!*alive) return absl::CancelledError("consumer closed");
  }
  absl::Status s = DoCommit(commit);
  if (*alive) {
    ++serving_commit_ticket_;
    commit_turn_.NotifyAll();
  }
  return s;
}

absl::Status KafkaConsumer::DoCommit(const PendingCommit& commit) {
  const std::map<TopicPartition, int64_t>& o = commit.offsets;
  if (o.empty()) return absl::OkStatus();
  auto req = std::make_shared<OffsetCommitRequest>();
  req->group_id = group_id_;
  req->generation_id = commit.generation;
  req->member_id = commit.member_id;
  req->offsets = o;
  auto resp = CallCoordinator(req, DeadlineAfter(rt_.Now(), config_.GetInt("default.api.timeout.ms") * kMillisecond));
  Error err = Error::kRequestTimedOut;
  if (resp.ok() && !IsErrorResponse(**resp) && (*resp)->api() == ApiKey::kOffsetCommit) {
    err = Error::kNone;
    for (const auto& [tp, e] : static_cast<const OffsetCommitResponse&>(**resp).partitions) {
      if (e != Error::kNone) err = e;
    }
  }
  for (const auto& [tp, off] : o) {
    if (observer_ != nullptr) {
      // The generation the offsets were committed in (a rebalance may have happened since).
      observer_->OnCommit(client_id_, group_id_, manual_ ? generation_ : req->generation_id, tp,
                          off, err == Error::kNone);
    }
  }
  if (err == Error::kNone) return absl::OkStatus();
  if (err == Error::kNotCoordinator || err == Error::kCoordinatorNotAvailable) coordinator_ = kNoNode;
  if (err == Error::kUnknownMemberId || err == Error::kIllegalGeneration ||
      err == Error::kRebalanceInProgress) {
    // As the Java client does, a response to a commit of an older generation (an async commit
    // that was in flight across a rebalance) does not reset the membership the consumer has
    // since.
    // Nor does one that arrives while the consumer is rejoining: the join settles membership.
    const bool same_generation =
        req->generation_id == generation_ && req->member_id == member_id_ && !rejoining_;
    if (!same_generation && !manual_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "CommitFailedException: ", ErrorName(err), " (committed in an older generation)"));
    }
    needs_rejoin_ = true;
    if (err != Error::kRebalanceInProgress) {
      member_id_.clear();
      generation_ = -1;
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "CommitFailedException: ", ErrorName(err),
        " (the group has already rebalanced and assigned the partitions to another member)"));
  }
  return absl::UnavailableError(std::string(ErrorName(err)));
}

void KafkaConsumer::CommitAsync(std::function<void(const absl::Status&)> callback) {
  auto alive = alive_;
  rt_.Spawn("commit-async", [this, alive, commit = MakeCommit(std::nullopt), callback] {
    if (!*alive) return;
    absl::Status s = CommitInTurn(commit);
    if (*alive && callback) callback(s);
  });
}

void KafkaConsumer::MaybeAutoCommit() {
  if (!config_.GetBool("enable.auto.commit") || group_id_.empty()) return;
  if (rt_.Now() - last_auto_commit_ < config_.GetInt("auto.commit.interval.ms") * kMillisecond) return;
  last_auto_commit_ = rt_.Now();
  CommitAsync(nullptr);
}

void KafkaConsumer::HeartbeatLoop(std::shared_ptr<bool> alive) {
  while (*alive && !closed_) {
    rt_.Sleep(config_.GetInt("heartbeat.interval.ms") * kMillisecond);
    if (!*alive || closed_ || rejoining_ || generation_ < 0) continue;
    if (coordinator_ == kNoNode) {
      // As the Java heartbeat thread does: look the coordinator up again (it may have moved
      // to another broker), then heartbeat there.
      const TimeNs deadline =
          DeadlineAfter(rt_.Now(), config_.GetInt("heartbeat.interval.ms") * kMillisecond);
      if (!EnsureCoordinator(deadline) || !*alive || closed_ || rejoining_ || generation_ < 0) continue;
    }
    if (rt_.Now() - last_poll_ > config_.GetInt("max.poll.interval.ms") * kMillisecond) {
      // The application stopped polling: leave so the group can move on (Java does the same).
      auto leave = std::make_shared<LeaveGroupRequest>();
      leave->group_id = group_id_;
      leave->members = {member_id_};
      (void)ClientFor(coordinator_).Call(leave, DeadlineAfter(rt_.Now(), 5 * kSecond));
      member_id_.clear();
      generation_ = -1;
      needs_rejoin_ = true;
      continue;
    }
    auto hb = std::make_shared<HeartbeatRequest>();
    hb->group_id = group_id_;
    hb->generation_id = generation_;
    hb->member_id = member_id_;
    auto resp = ClientFor(coordinator_).Call(hb, DeadlineAfter(rt_.Now(), config_.GetInt("session.timeout.ms") * kMillisecond));
    if (!*alive) return;
    if (!resp.ok() || IsErrorResponse(**resp)) {
      coordinator_ = kNoNode;
      continue;
    }
    // A response about a generation the consumer has left (or is leaving by rejoining) says
    // nothing about the membership it has now.
    if (rejoining_ || hb->generation_id != generation_ || hb->member_id != member_id_) continue;
    const Error e = static_cast<const HeartbeatResponse&>(**resp).error;
    if (e == Error::kRebalanceInProgress) {
      needs_rejoin_ = true;
    } else if (e == Error::kUnknownMemberId || e == Error::kIllegalGeneration) {
      member_id_.clear();
      generation_ = -1;
      needs_rejoin_ = true;
    } else if (e == Error::kNotCoordinator || e == Error::kCoordinatorNotAvailable) {
      coordinator_ = kNoNode;
    }
  }
}

void KafkaConsumer::Seek(const TopicPartition& tp, int64_t offset) {
  auto it = assigned_.find(tp);
  KSIM_CHECK_MSG(it != assigned_.end(), "seek on a partition not assigned: " + tp.ToString());
  it->second.position = offset;
  it->second.fetch_position = offset;
  std::erase_if(completed_, [&tp](const CompletedFetch& f) { return f.tp == tp; });
}

void KafkaConsumer::SeekToBeginning(const std::vector<TopicPartition>& tps) {
  for (const auto& tp : tps) {
    auto req = std::make_shared<ListOffsetsRequest>();
    req->timestamps[tp] = kEarliestTimestamp;
    NodeId node = metadata_.NodeOf(metadata_.Leader(tp));
    if (node == kNoNode) continue;
    auto resp = ClientFor(node).Call(req, DeadlineAfter(rt_.Now(), 5 * kSecond));
    if (resp.ok() && (*resp)->api() == ApiKey::kListOffsets) {
      Seek(tp, static_cast<const ListOffsetsResponse&>(**resp).partitions.at(tp).offset);
    }
  }
}

void KafkaConsumer::SeekToEnd(const std::vector<TopicPartition>& tps) {
  for (const auto& tp : tps) {
    auto req = std::make_shared<ListOffsetsRequest>();
    req->timestamps[tp] = kLatestTimestamp;
    NodeId node = metadata_.NodeOf(metadata_.Leader(tp));
    if (node == kNoNode) continue;
    auto resp = ClientFor(node).Call(req, DeadlineAfter(rt_.Now(), 5 * kSecond));
    if (resp.ok() && (*resp)->api() == ApiKey::kListOffsets) {
      Seek(tp, static_cast<const ListOffsetsResponse&>(**resp).partitions.at(tp).offset);
    }
  }
}

std::optional<int64_t> KafkaConsumer::Position(const TopicPartition& tp) const {
  auto it = assigned_.find(tp);
  return it == assigned_.end() ? std::nullopt : it->second.position;
}

std::optional<int64_t> KafkaConsumer::Committed(const TopicPartition& tp) {
  auto req = std::make_shared<OffsetFetchRequest>();
  req->group_id = group_id_;
  req->partitions = std::vector<TopicPartition>{tp};
  auto resp = CallCoordinator(req, DeadlineAfter(rt_.Now(), 30 * kSecond));
  if (!resp.ok() || IsErrorResponse(**resp)) return std::nullopt;
  const auto& r = static_cast<const OffsetFetchResponse&>(**resp);
  auto it = r.offsets.find(tp);
  if (it == r.offsets.end() || it->second < 0) return std::nullopt;
  return it->second;
}

std::vector<TopicPartition> KafkaConsumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, st] : assigned_) out.push_back(tp);
  return out;
}

void KafkaConsumer::Wakeup() { woken_ = true; }

void KafkaConsumer::Close() {
  if (closed_) return;
  if (config_.GetBool("enable.auto.commit") && !group_id_.empty()) (void)CommitSync();
  closed_ = true;
  if (!manual_ && !member_id_.empty() && coordinator_ != kNoNode) {
    if (listener_ != nullptr) listener_->OnPartitionsRevoked(assignment());
    auto leave = std::make_shared<LeaveGroupRequest>();
    leave->group_id = group_id_;
    leave->members = {member_id_};
    (void)ClientFor(coordinator_).Call(leave, DeadlineAfter(rt_.Now(), 5 * kSecond));
  }
  SetAssignment({});
  *alive_ = false;
}

}  // namespace ksim
