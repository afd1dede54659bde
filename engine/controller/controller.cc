#include "engine/controller/controller.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

// Invariant of every placement: never two replicas of one partition on one broker.
void CheckDistinctReplicas(const std::vector<BrokerId>& replicas) {
  std::vector<BrokerId> sorted = replicas;
  std::sort(sorted.begin(), sorted.end());
  KSIM_CHECK_MSG(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
                 "two replicas of a partition on one broker");
}

bool Has(const std::vector<BrokerId>& v, BrokerId b) {
  return std::find(v.begin(), v.end(), b) != v.end();
}

std::string List(const std::vector<BrokerId>& v) { return absl::StrCat("[", absl::StrJoin(v, ","), "]"); }

}  // namespace

ControllerConfig ControllerConfigFrom(const Config& c) {
  ControllerConfig out;
  out.unclean_leader_election = c.GetBool("unclean.leader.election.enable");
  out.auto_leader_rebalance = c.GetBool("auto.leader.rebalance.enable");
  out.imbalance_check_interval_ns = c.GetInt("leader.imbalance.check.interval.seconds") * kSecond;
  out.imbalance_percentage = c.GetInt("leader.imbalance.per.broker.percentage");
  out.default_replication_factor = c.GetInt("default.replication.factor");
  out.num_partitions = c.GetInt("num.partitions");
  out.delete_topic_enable = c.GetBool("delete.topic.enable");
  return out;
}

BrokerId ElectLeader(const std::vector<BrokerId>& replicas, const std::vector<BrokerId>& isr,
                     const std::function<bool(BrokerId)>& alive, bool unclean, bool* was_unclean) {
  *was_unclean = false;
  for (BrokerId r : replicas) {
    if (alive(r) && Has(isr, r)) return r;
  }
  if (!unclean) return kNoBroker;
  for (BrokerId r : replicas) {
    if (alive(r)) {
      *was_unclean = true;
      return r;
    }
  }
  return kNoBroker;
}

std::map<int32_t, std::vector<BrokerId>> AssignReplicas(const std::vector<BrokerId>& brokers,
                                                        int32_t partitions, int32_t rf,
                                                        int32_t start_index, int32_t shift,
                                                        int32_t first_partition) {
  const int32_t n = static_cast<int32_t>(brokers.size());
  KSIM_CHECK(rf >= 1 && rf <= n);
  std::map<int32_t, std::vector<BrokerId>> out;
  int32_t next_shift = shift;
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    if (p > 0 && p % n == 0) ++next_shift;
    const int32_t first = (p + start_index) % n;
    std::vector<BrokerId> replicas = {brokers[first]};
    for (int32_t j = 0; j < rf - 1; ++j) {
      const int32_t s = n > 1 ? 1 + (next_shift + j) % (n - 1) : 0;
      replicas.push_back(brokers[(first + s) % n]);
    }
    CheckDistinctReplicas(replicas);
    out[p] = std::move(replicas);
  }
  return out;
}

std::vector<BrokerId> RackAlternatedBrokerList(const std::map<BrokerId, std::string>& rack_of) {
  std::map<std::string, std::vector<BrokerId>> by_rack;  // rack name order, ids ascending
  for (const auto& [id, rack] : rack_of) by_rack[rack].push_back(id);
  std::vector<BrokerId> out;
  for (size_t round = 0; out.size() < rack_of.size(); ++round) {
    for (const auto& [rack, ids] : by_rack) {
      if (round < ids.size()) out.push_back(ids[round]);
    }
  }
  return out;
}

std::map<int32_t, std::vector<BrokerId>> AssignReplicasRackAware(
    const std::map<BrokerId, std::string>& rack_of, int32_t partitions, int32_t rf,
    int32_t start_index, int32_t shift, int32_t first_partition) {
  const std::vector<BrokerId> brokers = RackAlternatedBrokerList(rack_of);
  const int64_t n = static_cast<int64_t>(brokers.size());
  KSIM_CHECK(rf >= 1 && rf <= n);
  std::set<std::string> all_racks;
  for (const auto& [id, rack] : rack_of) all_racks.insert(rack);
  const int64_t num_racks = static_cast<int64_t>(all_racks.size());
  std::map<int32_t, std::vector<BrokerId>> out;
  int64_t next_shift = shift;
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    if (p > 0 && p % n == 0) ++next_shift;
    const int64_t first = (p + start_index) % n;
    std::vector<BrokerId> replicas = {brokers[first]};
    std::set<std::string> racks_used = {rack_of.at(brokers[first])};
    // k walks the other brokers of the list from the shifted position; each follower takes the
    // first broker that neither repeats a rack (while some rack has no replica) nor a broker.
    int64_t k = 0;
    for (int32_t j = 0; j < rf - 1; ++j) {
      for (;; ++k) {
        const BrokerId b = brokers[(first + 1 + (next_shift * num_racks + k) % (n - 1)) % n];
        const std::string& rack = rack_of.at(b);
        const bool rack_ok = racks_used.count(rack) == 0 ||
                             static_cast<int64_t>(racks_used.size()) == num_racks;
        const bool broker_ok = !Has(replicas, b) || static_cast<int64_t>(replicas.size()) == n;
        if (rack_ok && broker_ok) {
          replicas.push_back(b);
          racks_used.insert(rack);
          ++k;
          break;
        }
      }
    }
    CheckDistinctReplicas(replicas);
    out[p] = std::move(replicas);
  }
  return out;
}

absl::StatusOr<std::map<int32_t, std::vector<BrokerId>>> AssignReplicasToBrokers(
    const std::map<BrokerId, std::string>& brokers, int32_t partitions, int32_t rf,
    int32_t start_index, int32_t shift, int32_t first_partition, RackAwareMode mode) {
  KSIM_CHECK(partitions >= 1 && rf >= 1 && rf <= static_cast<int64_t>(brokers.size()));
  size_t with_rack = 0;
  for (const auto& [id, rack] : brokers) with_rack += rack.empty() ? 0 : 1;
  if (with_rack > 0 && with_rack < brokers.size()) {
    if (mode == RackAwareMode::kEnforced) {
      std::vector<BrokerId> without;
      for (const auto& [id, rack] : brokers) {
        if (rack.empty()) without.push_back(id);
      }
      return absl::FailedPreconditionError(
          absl::StrCat("Not all brokers have rack information for replica rack aware "
                       "assignment (no broker.rack on brokers ",
                       absl::StrJoin(without, ","), ")."));
    }
  }
  if (with_rack == brokers.size() && mode != RackAwareMode::kDisabled) {
    return AssignReplicasRackAware(brokers, partitions, rf, start_index, shift, first_partition);
  }
  std::vector<BrokerId> ids;
  for (const auto& [id, rack] : brokers) ids.push_back(id);
  return AssignReplicas(ids, partitions, rf, start_index, shift, first_partition);
}

// A queue and a fiber per broker, like Kafka's ControllerChannelManager.
struct Controller::BrokerChannel {
  std::unique_ptr<RpcClient> client;
  ksim::Channel<std::shared_ptr<Request>> queue;
};

Controller::Controller(Broker& broker, ControllerConfig config, int32_t epoch)
    : broker_(broker), rt_(broker.runtime()), meta_(broker.metastore()), config_(config),
      epoch_(epoch), rng_(broker.runtime().NewRng("controller")),
      alive_(std::make_shared<bool>(true)) {}

Controller::~Controller() { Stop(); }

void Controller::Stop() {
  *alive_ = false;
  events_.Close();
  for (auto& [b, ch] : channels_) ch->queue.Close();
}

void Controller::Start() {
  rt_.Trace("controller", absl::StrCat("broker ", broker_.id(), " is controller, epoch ", epoch_));
  auto alive = alive_;
  rt_.Spawn("controller-events", [this, alive] { Run(alive); });
  Post([this] { LoadState(); });
  if (config_.auto_leader_rebalance) {
    rt_.Spawn("controller-preferred", [this, alive] {
      while (*alive) {
        rt_.Sleep(config_.imbalance_check_interval_ns);
        if (*alive) Post([this] { PreferredElection(); });
      }
    });
  }
}

void Controller::Post(std::function<void()> event) { events_.Send(std::move(event)); }

void Controller::Run(std::shared_ptr<bool> alive) {
  while (*alive) {
    auto e = events_.Receive(kForever);
    if (!e.ok() || !*alive) return;
    (*e)();
  }
}

void Controller::OnWatch(const WatchEvent& e) {
  rt_.Trace("controller-watch", e.path);
  if (e.path == "/brokers/ids") Post([this] { RefreshBrokers(); });
}

std::string Controller::PartitionPath(const TopicPartition& tp) const {
  return absl::StrCat("/brokers/topics/", tp.topic, "/partitions/", tp.partition);
}

bool Controller::Unclean(const std::string& topic) const {
  auto t = topics_.find(topic);
  if (t != topics_.end()) {
    auto c = t->second.configs.find("unclean.leader.election.enable");
    if (c != t->second.configs.end()) return c->second == "true";
  }
  return config_.unclean_leader_election;
}

void Controller::LoadState() {
  auto topics = meta_.GetChildren("/brokers/topics", false);
  if (topics.ok()) {
    for (const std::string& path : (*topics)->children) {
      auto a = meta_.GetData(path, false);
      if (!a.ok() || (*a)->error != MetaError::kOk) continue;
      auto assign = std::static_pointer_cast<const TopicAssignmentPayload>((*a)->data);
      const std::string topic = path.substr(std::string("/brokers/topics/").size());
      topics_[topic] = TopicInfo{assign->replicas, assign->configs};
      for (const auto& [p, replicas] : assign->replicas) {
        TopicPartition tp{topic, p};
        auto s = meta_.GetData(PartitionPath(tp), false);
        if (!s.ok() || (*s)->error != MetaError::kOk) continue;
        partitions_[tp] = PartitionInfo{
            std::static_pointer_cast<const PartitionStatePayload>((*s)->data)->state,
            (*s)->version};
      }
    }
  }
  auto deletions = meta_.GetChildren(kDeleteTopicsPath, false);
  if (deletions.ok()) {
    for (const std::string& path : (*deletions)->children) {
      auto d = meta_.GetData(path, false);
      if (!d.ok() || (*d)->error != MetaError::kOk) continue;
      const std::string topic = path.substr(std::string(kDeleteTopicsPath).size() + 1);
      pending_deletions_[topic] =
          std::static_pointer_cast<const TopicDeletionPayload>((*d)->data)->pending;
    }
  }
  RefreshBrokers();
  // Failover: partitions whose leader died before this controller took over, and ISRs listing
  // dead brokers, are handled as a broker failure would have been.
  std::vector<BrokerId> dead;
  for (const auto& [tp, info] : partitions_) {
    for (BrokerId b : info.state.replicas) {
      if (!Alive(b) && std::find(dead.begin(), dead.end(), b) == dead.end()) dead.push_back(b);
    }
  }
  std::sort(dead.begin(), dead.end());
  if (!dead.empty()) OnBrokersFailed(dead);
  std::vector<TopicPartition> all;
  for (const auto& [tp, p] : partitions_) all.push_back(tp);
  SendUpdateMetadata(all);
  SendLeaderAndIsr(all);
}

void Controller::RefreshBrokers() {
  auto ids = meta_.GetChildren("/brokers/ids", true);
  if (!ids.ok()) {
    // The metadata service is unreachable: retry shortly.
    auto alive = alive_;
    rt_.Spawn("controller-retry", [this, alive] {
      rt_.Sleep(500 * kMillisecond);
      if (*alive) Post([this] { RefreshBrokers(); });
    });
    return;
  }
  std::map<BrokerId, BrokerInfo> now;
  std::map<BrokerId, int64_t> registrations;
  for (const std::string& path : (*ids)->children) {
    auto d = meta_.GetData(path, false);
    if (!d.ok() || (*d)->error != MetaError::kOk) continue;
    auto payload = std::static_pointer_cast<const BrokerInfoPayload>((*d)->data);
    now[payload->info.id] = payload->info;
    registrations[payload->info.id] = payload->registration;
  }
  std::vector<BrokerId> dead, started;
  for (const auto& [id, b] : live_) {
    // A broker registered under a new session restarted: it failed and started again.
    if (now.count(id) == 0 || registrations[id] != registrations_[id]) dead.push_back(id);
  }
  for (const auto& [id, b] : now) {
    if (live_.count(id) == 0 || registrations[id] != registrations_[id]) started.push_back(id);
  }
  registrations_ = registrations;
  if (!dead.empty()) {
    // Bounced brokers count as down while their failure is handled, then start again.
    live_ = now;
    for (BrokerId b : dead) live_.erase(b);
    OnBrokersFailed(dead);
  }
  live_ = std::move(now);
  if (!dead.empty()) OnBrokersFailed(dead);
  if (!started.empty()) OnBrokersStarted(started);
}

bool Controller::WriteState(const TopicPartition& tp, PartitionState st) {
  PartitionInfo& info = partitions_[tp];
  KSIM_CHECK_MSG(st.leader_epoch >= info.state.leader_epoch, "leader epochs never go backwards");
  for (BrokerId b : st.isr) KSIM_CHECK_MSG(Has(st.replicas, b), "ISR is a subset of replicas");
  st.controller_epoch = epoch_;
  auto payload = std::make_shared<PartitionStatePayload>();
  payload->state = st;
  auto r = meta_.SetData(PartitionPath(tp), payload, info.version);
  if (!r.ok() || (*r)->error != MetaError::kOk) return false;
  info.version = (*r)->version;
  st.partition_epoch = info.version;
  info.state = st;
  return true;
}

bool Controller::ElectFor(const TopicPartition& tp, const std::vector<BrokerId>& excluded) {
  PartitionInfo& info = partitions_.at(tp);
  PartitionState st = info.state;
  auto alive = [&](BrokerId b) { return Alive(b) && !Has(excluded, b); };
  bool unclean = false;
  const BrokerId leader = ElectLeader(st.replicas, st.isr, alive, Unclean(tp.topic), &unclean);
  std::vector<BrokerId> isr;
  for (BrokerId b : st.isr) {
    if (alive(b)) isr.push_back(b);
  }
  if (leader == kNoBroker) {
    if (st.leader == kNoBroker) return false;  // already offline
    // No eligible replica: the partition goes offline; the ISR keeps its last member.
    st.leader = kNoBroker;
    if (isr.empty() && !st.isr.empty()) isr = {st.isr.back()};
    st.isr = isr.empty() ? st.isr : isr;
    ++st.leader_epoch;
    rt_.Trace("offline", absl::StrCat(tp.ToString(), " no live ISR member, isr=", List(st.isr)));
    return WriteState(tp, st);
  }
  if (unclean) {
    isr = {leader};
    rt_.Trace("unclean-election", absl::StrCat(tp.ToString(), " leader=", leader,
                                               " (not in ISR ", List(st.isr), ")"));
  }
  st.leader = leader;
  st.isr = isr;
  ++st.leader_epoch;
  rt_.Trace("election", absl::StrCat(tp.ToString(), " leader=", leader, " epoch=",
                                     st.leader_epoch, " isr=", List(st.isr)));
  return WriteState(tp, st);
}

void Controller::OnBrokersFailed(const std::vector<BrokerId>& dead) {
  rt_.Trace("controller", absl::StrCat("brokers failed: ", List(dead)));
  std::vector<TopicPartition> changed;
  for (auto& [tp, info] : partitions_) {
    const PartitionState& st = info.state;
    if (Has(dead, st.leader)) {
      if (ElectFor(tp, dead)) changed.push_back(tp);
      continue;
    }
    bool in_isr = false;
    for (BrokerId b : dead) in_isr |= Has(st.isr, b);
    if (!in_isr || st.leader == kNoBroker) continue;
    PartitionState next = st;
    next.isr.clear();
    for (BrokerId b : st.isr) {
      if (!Has(dead, b)) next.isr.push_back(b);
    }
    ++next.leader_epoch;
    rt_.Trace("isr-shrink", absl::StrCat(tp.ToString(), " ", List(st.isr), " -> ",
                                         List(next.isr), " (broker failed)"));
    if (WriteState(tp, next)) changed.push_back(tp);
  }
  for (BrokerId b : dead) {
    auto ch = channels_.find(b);
    if (ch != channels_.end()) {
      ch->second->queue.Close();
      channels_.erase(ch);
    }
  }
  SendLeaderAndIsr(changed);
  SendUpdateMetadata(changed);
}

void Controller::OnBrokersStarted(const std::vector<BrokerId>& started) {
  rt_.Trace("controller", absl::StrCat("brokers started: ", List(started)));
  DeletePendingReplicas(started);
  std::vector<TopicPartition> changed, theirs;
  for (auto& [tp, info] : partitions_) {
    if (info.state.leader == kNoBroker && ElectFor(tp, {})) changed.push_back(tp);
    for (BrokerId b : started) {
      if (Has(info.state.replicas, b)) theirs.push_back(tp);
    }
  }
  std::vector<TopicPartition> all;
  for (const auto& [tp, info] : partitions_) all.push_back(tp);
  SendUpdateMetadata(all);
  changed.insert(changed.end(), theirs.begin(), theirs.end());
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  SendLeaderAndIsr(changed);
}

void Controller::SendTo(BrokerId b, std::shared_ptr<Request> r) {
  auto live = live_.find(b);
  if (live == live_.end()) return;
  auto& ch = channels_[b];
  if (ch == nullptr) {
    ch = std::make_shared<BrokerChannel>();
    ch->client = std::make_unique<RpcClient>(rt_, live->second.node,
                                             absl::StrCat("controller-", broker_.id()));
    std::shared_ptr<BrokerChannel> raw = ch;
    auto alive = alive_;
    rt_.Spawn(absl::StrCat("controller->", b), [this, raw, alive, b] {
      for (;;) {
        auto req = raw->queue.Receive(kForever);
        if (!req.ok() || !*alive) return;
        // Retry until delivered or the broker is gone (the queue closes).
        for (int attempt = 0; attempt < 10 && *alive; ++attempt) {
          auto resp = raw->client->Call(*req, DeadlineAfter(rt_.Now(), 30 * kSecond));
          if (!*alive) break;
          if (resp.ok()) {
            // A replica deletion is done once the broker answers it.
            if ((*req)->api() == ApiKey::kStopReplica && (*resp)->api() == ApiKey::kStopReplica &&
                static_cast<const StopReplicaRequest&>(**req).delete_partitions &&
                static_cast<const StopReplicaResponse&>(**resp).error == Error::kNone) {
              std::set<std::string> topics;
              for (const TopicPartition& tp : static_cast<const StopReplicaRequest&>(**req).partitions) {
                topics.insert(tp.topic);
              }
              Post([this, b, topics] {
                for (const std::string& t : topics) ReplicaDeleted(t, b);
              });
            }
            break;
          }
          rt_.Sleep(200 * kMillisecond);
        }
      }
    });
  }
  ch->queue.Send(std::move(r));
}

void Controller::SendLeaderAndIsr(const std::vector<TopicPartition>& tps) {
  std::map<BrokerId, std::shared_ptr<LeaderAndIsrRequest>> per_broker;
  for (const TopicPartition& tp : tps) {
    const PartitionInfo& info = partitions_.at(tp);
    for (BrokerId b : info.state.replicas) {
      if (!Alive(b)) continue;
      auto& req = per_broker[b];
      if (req == nullptr) {
        req = std::make_shared<LeaderAndIsrRequest>();
        req->controller_id = broker_.id();
        req->controller_epoch = epoch_;
        for (const auto& [id, info2] : live_) req->live_leaders.push_back(info2);
      }
      PartitionState st = info.state;
      st.partition_epoch = info.version;
      req->partitions[tp] = st;
      req->topic_configs[tp.topic] = topics_[tp.topic].configs;
    }
  }
  for (auto& [b, req] : per_broker) SendTo(b, req);
}

void Controller::SendUpdateMetadata(const std::vector<TopicPartition>& tps) {
  for (const auto& [b, info] : live_) {
    auto req = std::make_shared<UpdateMetadataRequest>();
    req->controller_id = broker_.id();
    req->controller_epoch = epoch_;
    for (const auto& [id, i] : live_) req->live_brokers.push_back(i);
    for (const TopicPartition& tp : tps) {
      PartitionState st = partitions_.at(tp).state;
      st.partition_epoch = partitions_.at(tp).version;
      req->partitions[tp] = st;
    }
    for (const auto& [t, ti] : topics_) req->internal_topics[t] = t.rfind("__", 0) == 0;
    SendTo(b, req);
  }
}

std::shared_ptr<Response> Controller::Handle(const RequestPtr& request) {
  // Requests run in the event fiber so they see and change state in order.
  Promise<std::shared_ptr<Response>> done;
  Future<std::shared_ptr<Response>> f = done.GetFuture();
  switch (request->api()) {
    case ApiKey::kCreateTopics:
    case ApiKey::kDeleteTopics:
    case ApiKey::kCreatePartitions:
    case ApiKey::kAlterPartition:
      break;
    default:
      return nullptr;
  }
  Post([this, request, done]() mutable {
    switch (request->api()) {
      case ApiKey::kCreateTopics:
        done.Set(CreateTopics(static_cast<const CreateTopicsRequest&>(*request)));
        break;
      case ApiKey::kDeleteTopics:
        done.Set(DeleteTopics(static_cast<const DeleteTopicsRequest&>(*request)));
        break;
      case ApiKey::kCreatePartitions:
        done.Set(CreatePartitions(static_cast<const CreatePartitionsRequest&>(*request)));
        break;
      default:
        done.Set(AlterPartition(static_cast<const AlterPartitionRequest&>(*request)));
    }
  });
  if (!f.Wait(DeadlineAfter(rt_.Now(), 60 * kSecond))) {
    return MakeErrorResponse(*request, Error::kRequestTimedOut);
  }
  return f.Get();
}

std::shared_ptr<Response> Controller::CreateTopics(const CreateTopicsRequest& r) {
  auto resp = std::make_shared<CreateTopicsResponse>();
  std::map<BrokerId, std::string> brokers;  // live brokers and their racks
  for (const auto& [id, b] : live_) brokers[id] = b.rack;
  std::vector<TopicPartition> created;
  for (const CreatableTopic& t : r.topics) {
    auto& result = resp->topics[t.name];
    if (topics_.count(t.name) > 0) {
      result.error = Error::kTopicAlreadyExists;
      continue;
    }
    const int32_t partitions = t.num_partitions > 0 ? t.num_partitions : config_.num_partitions;
    const int32_t rf = t.replication_factor > 0 ? t.replication_factor
                                                : config_.default_replication_factor;
    if (rf > static_cast<int32_t>(brokers.size())) {
      result.error = Error::kInvalidReplicationFactor;
      result.error_message = absl::StrCat("Replication factor: ", rf,
                                          " larger than available brokers: ", brokers.size(), ".");
      continue;
    }
    std::map<int32_t, std::vector<BrokerId>> assignment = t.assignments;
    if (assignment.empty()) {
      // Random start index and shift, as AdminUtils draws them (the rack-alternated list has
      // as many brokers as the plain one).
      const int32_t n = static_cast<int32_t>(brokers.size());
      const auto start = static_cast<int32_t>(rng_.Uniform(n));
      const auto shift = static_cast<int32_t>(rng_.Uniform(n));
      auto placed = AssignReplicasToBrokers(brokers, partitions, rf, start, shift);
      if (!placed.ok()) {
        // Kafka's AdminOperationException: UNKNOWN_SERVER_ERROR for this topic.
        result.error = Error::kUnknownServerError;
        result.error_message = std::string(placed.status().message());
        rt_.Trace("controller", absl::StrCat("cannot create topic ", t.name, ": ",
                                             result.error_message));
        continue;
      }
      assignment = *std::move(placed);
    }
    auto payload = std::make_shared<TopicAssignmentPayload>();
    payload->replicas = assignment;
    payload->configs = t.configs;
    auto w = meta_.Create(absl::StrCat("/brokers/topics/", t.name), payload, false);
    if (!w.ok() || (*w)->error != MetaError::kOk) {
      result.error = w.ok() ? Error::kTopicAlreadyExists : Error::kRequestTimedOut;
      continue;
    }
    topics_[t.name] = TopicInfo{assignment, t.configs};
    for (const auto& [p, replicas] : assignment) {
      if (InitPartition({t.name, p}, replicas)) created.push_back({t.name, p});
    }
    rt_.Trace("topic-created", absl::StrCat(t.name, " partitions=", partitions, " rf=", rf));
  }
  SendLeaderAndIsr(created);
  SendUpdateMetadata(created);
  return resp;
}

bool Controller::InitPartition(const TopicPartition& tp, const std::vector<BrokerId>& replicas) {
  // A new partition: every live replica is in sync (the log is empty), the first leads.
  PartitionState st;
  st.replicas = replicas;
  for (BrokerId b : replicas) {
    if (Alive(b)) st.isr.push_back(b);
  }
  st.leader = st.isr.empty() ? kNoBroker : st.isr.front();
  st.controller_epoch = epoch_;
  auto sp = std::make_shared<PartitionStatePayload>();
  sp->state = st;
  auto c = meta_.Create(PartitionPath(tp), sp, false);
  if (!c.ok() || (*c)->error != MetaError::kOk) return false;
  partitions_[tp] = PartitionInfo{st, 0};
  return true;
}

std::shared_ptr<Response> Controller::DeleteTopics(const DeleteTopicsRequest& r) {
  auto resp = std::make_shared<DeleteTopicsResponse>();
  for (const std::string& t : r.topics) {
    if (!config_.delete_topic_enable) {
      resp->topics[t] = Error::kTopicDeletionDisabled;
      continue;
    }
    auto it = topics_.find(t);
    if (it == topics_.end()) {
      resp->topics[t] = Error::kUnknownTopicOrPartition;
      continue;
    }
    // The topic leaves the metadata at once (as in KRaft mode); every replica's log is
    // deleted by StopReplica. Replicas on brokers that are down are remembered under
    // /admin/delete_topics and deleted when their broker registers again.
    std::map<BrokerId, std::vector<int32_t>> stops;
    for (const auto& [p, replicas] : it->second.replicas) {
      for (BrokerId b : replicas) stops[b].push_back(p);
      (void)meta_.Delete(PartitionPath({t, p}), -1);
      partitions_.erase({t, p});
    }
    // Every replica stays pending until its broker confirms the deletion (a broker that is
    // down, or dies before answering, gets it again when it registers).
    // (A topic deleted again while an earlier deletion is pending adds to it.)
    const bool earlier = pending_deletions_.count(t) > 0;
    auto& pend = pending_deletions_[t];
    for (const auto& [b, ps] : stops) {
      std::vector<int32_t>& all = pend[b];
      all.insert(all.end(), ps.begin(), ps.end());
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
    }
    auto pending = std::make_shared<TopicDeletionPayload>();
    pending->pending = pend;
    const std::string path = absl::StrCat(kDeleteTopicsPath, "/", t);
    if (earlier) {
      (void)meta_.SetData(path, pending, -1);
    } else {
      (void)meta_.Create(path, pending, false);
    }
    (void)meta_.Delete(absl::StrCat("/brokers/topics/", t), -1);
    topics_.erase(it);
    rt_.Trace("controller", absl::StrCat("deleted topic ", t));
    for (const auto& [b, ps] : stops) {
      if (Alive(b)) SendStopReplicaDelete(b, t, ps);
    }
    for (const auto& [b, info] : live_) {
      auto um = std::make_shared<UpdateMetadataRequest>();
      um->controller_id = broker_.id();
      um->controller_epoch = epoch_;
      for (const auto& [id, i] : live_) um->live_brokers.push_back(i);
      um->deleted_topics = {t};
      SendTo(b, um);
    }
    resp->topics[t] = Error::kNone;
  }
  return resp;
}

void Controller::SendStopReplicaDelete(BrokerId b, const std::string& topic,
                                       const std::vector<int32_t>& partitions) {
  auto s = std::make_shared<StopReplicaRequest>();
  s->controller_id = broker_.id();
  s->controller_epoch = epoch_;
  s->delete_partitions = true;
  for (int32_t p : partitions) s->partitions.push_back({topic, p});
  SendTo(b, s);
}

void Controller::DeletePendingReplicas(const std::vector<BrokerId>& started) {
  for (const auto& [topic, pending] : pending_deletions_) {
    for (BrokerId b : started) {
      auto p = pending.find(b);
      if (p != pending.end()) SendStopReplicaDelete(b, topic, p->second);
    }
  }
}

void Controller::ReplicaDeleted(const std::string& topic, BrokerId b) {
  auto it = pending_deletions_.find(topic);
  if (it == pending_deletions_.end() || it->second.erase(b) == 0) return;
  const std::string path = absl::StrCat(kDeleteTopicsPath, "/", topic);
  if (it->second.empty()) {
    (void)meta_.Delete(path, -1);
    rt_.Trace("controller", absl::StrCat("topic ", topic, " deleted on every replica"));
    pending_deletions_.erase(it);
    return;
  }
  auto payload = std::make_shared<TopicDeletionPayload>();
  payload->pending = it->second;
  (void)meta_.SetData(path, payload, -1);
}

std::shared_ptr<Response> Controller::CreatePartitions(const CreatePartitionsRequest& r) {
  auto resp = std::make_shared<CreatePartitionsResponse>();
  std::map<BrokerId, std::string> brokers;  // live brokers and their racks
  for (const auto& [id, b] : live_) brokers[id] = b.rack;
  std::vector<TopicPartition> created;
  for (const auto& [t, total] : r.new_total_counts) {
    auto it = topics_.find(t);
    auto& result = resp->topics[t];
    if (it == topics_.end()) {
      result.error = Error::kUnknownTopicOrPartition;
      continue;
    }
    const int32_t current = static_cast<int32_t>(it->second.replicas.size());
    const int32_t rf = static_cast<int32_t>(it->second.replicas.begin()->second.size());
    if (total <= current || rf > static_cast<int32_t>(brokers.size())) {
      result.error = Error::kInvalidPartitions;
      result.error_message = absl::StrCat("Topic currently has ", current,
                                          " partitions, ", total, " would not be an increase.");
      continue;
    }
    // Like AdminZkClient.createNewPartitionsAssignment: no random draw; the start index (and
    // shift) is the position, in id order, of the first broker with an id at least partition
    // 0's first replica.
    const BrokerId p0_first = it->second.replicas.begin()->second.front();
    int32_t start = 0;
    for (const auto& [id, rack] : brokers) {
      if (id >= p0_first) break;
      ++start;
    }
    if (start == static_cast<int32_t>(brokers.size())) start = 0;
    auto placed = AssignReplicasToBrokers(brokers, total - current, rf, start, start, current);
    if (!placed.ok()) {
      result.error = Error::kUnknownServerError;
      result.error_message = std::string(placed.status().message());
      rt_.Trace("controller", absl::StrCat("cannot add partitions to ", t, ": ",
                                           result.error_message));
      continue;
    }
    const std::map<int32_t, std::vector<BrokerId>> more = *std::move(placed);
    for (const auto& [p, replicas] : more) it->second.replicas[p] = replicas;
    auto payload = std::make_shared<TopicAssignmentPayload>();
    payload->replicas = it->second.replicas;
    payload->configs = it->second.configs;
    (void)meta_.SetData(absl::StrCat("/brokers/topics/", t), payload, -1);
    for (const auto& [p, replicas] : more) {
      if (InitPartition({t, p}, replicas)) created.push_back({t, p});
    }
  }
  SendLeaderAndIsr(created);
  SendUpdateMetadata(created);
  return resp;
}

std::shared_ptr<Response> Controller::AlterPartition(const AlterPartitionRequest& r) {
  auto resp = std::make_shared<AlterPartitionResponse>();
  std::vector<TopicPartition> changed;
  for (const auto& [tp, want] : r.partitions) {
    auto& out = resp->partitions[tp];
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) {
      out.error = Error::kUnknownTopicOrPartition;
      continue;
    }
    const PartitionState& st = it->second.state;
    if (st.leader != r.broker_id) {
      out.error = Error::kNotLeaderOrFollower;
    } else if (want.leader_epoch != st.leader_epoch) {
      out.error = Error::kFencedLeaderEpoch;
    } else if (want.partition_epoch != it->second.version) {
      out.error = Error::kInvalidRequest;  // INVALID_UPDATE_VERSION: a stale ISR view
    } else {
      PartitionState next = st;
      next.isr.clear();
      for (BrokerId b : want.new_isr) {
        // A dead broker may stay (shrink later) but may not be added.
        if (Has(st.replicas, b) && (Alive(b) || Has(st.isr, b))) next.isr.push_back(b);
      }
      if (!Has(next.isr, st.leader)) next.isr.insert(next.isr.begin(), st.leader);
      rt_.Trace(next.isr.size() < st.isr.size() ? "isr-shrink" : "isr-expand",
                absl::StrCat(tp.ToString(), " ", List(st.isr), " -> ", List(next.isr)));
      if (!WriteState(tp, next)) {
        out.error = Error::kInvalidRequest;
        continue;
      }
      changed.push_back(tp);
    }
    out.state = it->second.state;
    out.state.partition_epoch = it->second.version;
  }
  SendUpdateMetadata(changed);
  return resp;
}

void Controller::PreferredElection() {
  std::map<BrokerId, int> preferred, not_leading;
  for (const auto& [tp, info] : partitions_) {
    const BrokerId p = info.state.replicas.front();
    ++preferred[p];
    if (info.state.leader != p) ++not_leading[p];
  }
  std::vector<TopicPartition> changed;
  for (auto& [tp, info] : partitions_) {
    const BrokerId p = info.state.replicas.front();
    if (info.state.leader == p || !Alive(p) || !Has(info.state.isr, p)) continue;
    if (100 * not_leading[p] <= config_.imbalance_percentage * preferred[p]) continue;
    PartitionState next = info.state;
    next.leader = p;
    ++next.leader_epoch;
    rt_.Trace("election", absl::StrCat(tp.ToString(), " preferred leader ", p, " epoch=",
                                       next.leader_epoch));
    if (WriteState(tp, next)) changed.push_back(tp);
  }
  SendLeaderAndIsr(changed);
  SendUpdateMetadata(changed);
}

std::string Controller::DescribeTopics() const {
  std::string out;
  for (const auto& [tp, info] : partitions_) {
    absl::StrAppend(&out, "Topic: ", tp.topic, "\tPartition: ", tp.partition,
                    "\tLeader: ", info.state.leader, "\tReplicas: ",
                    absl::StrJoin(info.state.replicas, ","), "\tIsr: ",
                    absl::StrJoin(info.state.isr, ","), "\n");
  }
  return out;
}

ControllerElector::ControllerElector(Broker& broker, ControllerConfig config)
    : broker_(broker), config_(config) {}

ControllerElector::~ControllerElector() { broker_.set_controller_handler(nullptr); }

void ControllerElector::Start() {
  // A new session: whatever we led before is gone with the old session's ephemeral znode.
  broker_.set_controller_handler(nullptr);
  if (controller_ != nullptr) {
    controller_->Stop();
    retired_.push_back(std::move(controller_));
  }
  if (!listening_) {
    listening_ = true;
    broker_.AddWatchListener([this](const WatchEvent& e) {
      if (e.path == "/controller") {
        broker_.runtime().Spawn("controller-election", [this] { TryElect(); });
      } else if (controller_ != nullptr) {
        controller_->OnWatch(e);
      }
    });
  }
  TryElect();
}

void ControllerElector::TryElect() {
  if (controller_ != nullptr) return;
  MetaStoreClient& meta = broker_.metastore();
  auto id = std::make_shared<ControllerIdPayload>();
  id->id = broker_.id();
  auto c = meta.Create("/controller", id, /*ephemeral=*/true);
  if (c.ok() && (*c)->error == MetaError::kOk) {
    // Won: bump the controller epoch (fences the previous controller's requests).
    int32_t epoch = 1;
    for (;;) {
      auto e = meta.GetData("/controller_epoch", false);
      if (!e.ok()) continue;
      if ((*e)->error == MetaError::kNoNode) {
        auto p = std::make_shared<EpochPayload>();
        p->epoch = 1;
        auto w = meta.Create("/controller_epoch", p, false);
        if (w.ok() && (*w)->error == MetaError::kOk) break;
        continue;
      }
      auto p = std::make_shared<EpochPayload>();
      p->epoch = std::static_pointer_cast<const EpochPayload>((*e)->data)->epoch + 1;
      auto w = meta.SetData("/controller_epoch", p, (*e)->version);
      if (w.ok() && (*w)->error == MetaError::kOk) {
        epoch = p->epoch;
        break;
      }
    }
    controller_ = std::make_unique<Controller>(broker_, config_, epoch);
    Controller* ctl = controller_.get();
    broker_.set_controller_handler([ctl](const RequestPtr& r) { return ctl->Handle(r); });
    controller_->Start();
  }
  // Watch the controller znode either way: its deletion starts the next election.
  (void)meta.GetData("/controller", true);
}

}  // namespace ksim
