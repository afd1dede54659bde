#include "engine/broker/broker.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/broker/log_cleaner_thread.h"
#include "engine/broker/znode_payloads.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {

Broker::Broker(Runtime& rt, BrokerSettings settings, NodeId metastore_node)
    : rt_(rt),
      settings_(std::move(settings)),
      network_threads_(settings_.num_network_threads),
      io_threads_(settings_.num_io_threads),
      metastore_node_(metastore_node),
      server_(rt, [this](const RequestPtr& r, NodeId from) { return Handle(r, from); }) {}

Broker::~Broker() = default;

std::string Broker::LogDir(const TopicPartition& tp) {
  return absl::StrCat("data/", tp.topic, "-", tp.partition);
}

void Broker::Start() {
  RecoverLogs();
  server_.Start();
  metastore_ = std::make_unique<MetaStoreClient>(rt_, metastore_node_, settings_.session_timeout_ns);
  rt_.Spawn("register", [this] { Register(); });
  rt_.Spawn("isr-maintenance", [this] { IsrLoop(); });
  rt_.Spawn("log-retention", [this] { RetentionLoop(); });
  rt_.Spawn("hw-checkpoint", [this] { CheckpointLoop(); });
  rt_.Spawn("log-flusher", [this] { FlushLoop(); });
  LogCleanerThreads::Start(std::make_shared<LogCleanerThreads>(
      rt_, settings_, [this]() -> const auto& { return partitions_; }));
}

void Broker::RecoverLogs() {
  std::set<std::string> dirs;
  for (const std::string& path : rt_.fs().List("data/")) {
    size_t slash = path.find('/', 5);
    if (slash != std::string::npos) dirs.insert(path.substr(0, slash));
  }
  for (const std::string& dir : dirs) {
    std::string name = dir.substr(5);
    size_t dash = name.rfind('-');
    int32_t partition;
    if (dash == std::string::npos || !absl::SimpleAtoi(name.substr(dash + 1), &partition)) continue;
    TopicPartition tp{name.substr(0, dash), partition};
    TopicSettings ts = TopicSettings::Resolve(settings_, {});
    auto log = PartitionLog::Open(rt_.fs(), dir, ToLogConfig(ts));
    KSIM_CHECK_MSG(log.ok(), absl::StrCat("log recovery failed for ", dir, ": ",
                                          log.status().message()));
    auto p = std::make_unique<Partition>(rt_, tp, std::move(*log), settings_);
    p->set_broker_waiters(&any_data_);
    rt_.Trace("log-recovered", absl::StrCat(tp.ToString(), " leo=", p->log_end_offset(),
                                            " hw=", p->high_watermark()));
    partitions_.emplace(tp, std::move(p));
  }
}

Partition* Broker::FindPartition(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second.get();
}

Partition* Broker::GetOrCreatePartition(const TopicPartition& tp, const TopicSettings& ts) {
  if (Partition* p = FindPartition(tp)) return p;
  auto log = PartitionLog::Open(rt_.fs(), LogDir(tp), ToLogConfig(ts));
  KSIM_CHECK_MSG(log.ok(), absl::StrCat("cannot create log ", LogDir(tp), ": ",
                                        log.status().message()));
  auto p = std::make_unique<Partition>(rt_, tp, std::move(*log), settings_);
  p->set_broker_waiters(&any_data_);
  Partition* raw = p.get();
  partitions_.emplace(tp, std::move(p));
  return raw;
}

void Broker::Register() {
  for (;;) {
    auto on_event = [this](const WatchEvent& e) {
      for (auto& l : watch_listeners_) l(e);
    };
    if (metastore_->Open(kForever, on_event, [this] {
          // Session expired (e.g. after a partition from the metadata service): register anew.
          rt_.Spawn("re-register", [this] { Register(); });
        }).ok()) {
      break;
    }
  }
  auto info = std::make_shared<BrokerInfoPayload>();
  info->info = BrokerInfo{settings_.broker_id, rt_.node(), rt_.node_name(), settings_.rack};
  info->registration = metastore_->session();
  for (;;) {
    auto r = metastore_->Create(absl::StrCat("/brokers/ids/", settings_.broker_id), info,
                                /*ephemeral=*/true);
    // NODEEXISTS: the znode of our previous session has not expired yet; wait for it, as
    // Kafka's registration does, rather than adopt a znode that will vanish.
    if (r.ok() && (*r)->error == MetaError::kOk) break;
    rt_.Sleep(500 * kMillisecond);
  }
  rt_.Trace("broker-registered", absl::StrCat("broker ", settings_.broker_id));
  if (on_registered_) on_registered_();
}

std::shared_ptr<Response> Broker::Handle(const RequestPtr& request, NodeId from) {
  // The CPU model: a network thread reads the request, a request handler thread handles it,
  // a network thread writes the response. Waiting for a free thread is queueing delay.
  const BrokerCpuCost& cpu = settings_.cpu;
  ++requests_handled_;
  const bool produce = request->api() == ApiKey::kProduce;
  const int64_t request_bytes = request->SizeBytes();
  {
    const TimeNs queued = rt_.Now();
    SemaphoreGuard thread(network_threads_);
    thread_wait_ns_ += rt_.Now() - queued;
    rt_.Compute(cpu.network_per_request_ns +
                static_cast<DurationNs>(cpu.network_ns_per_byte * static_cast<double>(request_bytes)));
  }
  {
    const TimeNs queued = rt_.Now();
    SemaphoreGuard thread(io_threads_);
    thread_wait_ns_ += rt_.Now() - queued;
    rt_.Compute(cpu.io_per_request_ns +
                (produce ? static_cast<DurationNs>(cpu.produce_ns_per_byte *
                                                   static_cast<double>(request_bytes))
                         : 0));
  }
  std::shared_ptr<Response> response = Dispatch(request, from);
  if (response != nullptr && !response->close_connection) {
    const TimeNs queued = rt_.Now();
    SemaphoreGuard thread(network_threads_);
    thread_wait_ns_ += rt_.Now() - queued;
    // Fetch responses go out with sendfile: no per-byte copy.
    const bool zero_copy = response->api() == ApiKey::kFetch;
    rt_.Compute(cpu.network_per_request_ns +
                (zero_copy ? 0
                           : static_cast<DurationNs>(cpu.network_ns_per_byte *
                                                     static_cast<double>(response->SizeBytes()))));
  }
  return response;
}

std::shared_ptr<Response> Broker::Dispatch(const RequestPtr& request, NodeId from) {
  switch (request->api()) {
    case ApiKey::kProduce: return HandleProduce(static_cast<const ProduceRequest&>(*request));
    case ApiKey::kFetch: return HandleFetch(static_cast<const FetchRequest&>(*request));
    case ApiKey::kListOffsets:
      return HandleListOffsets(static_cast<const ListOffsetsRequest&>(*request));
    case ApiKey::kMetadata: return HandleMetadata(static_cast<const MetadataRequest&>(*request));
    case ApiKey::kOffsetForLeaderEpoch:
      return HandleOffsetsForLeaderEpoch(
          static_cast<const OffsetsForLeaderEpochRequest&>(*request));
    case ApiKey::kInitProducerId:
      return HandleInitProducerId(static_cast<const InitProducerIdRequest&>(*request));
    case ApiKey::kLeaderAndIsr:
      return HandleLeaderAndIsr(static_cast<const LeaderAndIsrRequest&>(*request));
    case ApiKey::kUpdateMetadata:
      return HandleUpdateMetadata(static_cast<const UpdateMetadataRequest&>(*request));
    case ApiKey::kStopReplica:
      return HandleStopReplica(static_cast<const StopReplicaRequest&>(*request));
    default:
      if (group_handler_ != nullptr) {
        if (auto resp = group_handler_(request)) return resp;
      }
      return ForwardToController(request);
  }
}

std::shared_ptr<Response> Broker::ForwardToController(const RequestPtr& r) {
  if (controller_handler_ != nullptr) {
    if (auto resp = controller_handler_(r)) return resp;
  }
  return MakeErrorResponse(*r, Error::kNotController);
}

std::shared_ptr<Response> Broker::HandleProduce(const ProduceRequest& r) {
  auto resp = std::make_shared<ProduceResponse>();
  const TimeNs deadline = DeadlineAfter(rt_.Now(), r.timeout_ms * kMillisecond);
  if (r.acks != 0 && r.acks != 1 && r.acks != -1) {
    for (const auto& [tp, b] : r.batches) resp->partitions[tp].error = Error::kInvalidRequiredAcks;
    return resp;
  }
  // As Kafka's ReplicaManager: append to every partition, then one delayed produce waits for
  // the acks of all of them.
  // (Partition objects outlive their deletion, so the pointers stay valid while waiting.)
  std::vector<std::tuple<TopicPartition, Partition*, Partition::PendingProduce>> pending;
  for (const auto& [tp, batch] : r.batches) {
    Partition* p = FindPartition(tp);
    if (p == nullptr) {
      resp->partitions[tp].error = metadata_.HasTopic(tp.topic) ? Error::kNotLeaderOrFollower
                                                                : Error::kUnknownTopicOrPartition;
      continue;
    }
    pending.emplace_back(tp, p, p->Append(batch, r.acks));
  }
  for (const auto& [tp, p, pp] : pending) resp->partitions[tp] = p->AwaitAcks(pp, deadline);
  if (r.acks == 0) {
    // No response to acks=0, but on an error Kafka closes the connection so the client notices.
    for (const auto& [tp, pr] : resp->partitions) {
      if (pr.error == Error::kNone) continue;
      rt_.Trace("produce-acks0-close", absl::StrCat(tp.ToString(), " ", ErrorName(pr.error)));
      resp->close_connection = true;
      return resp;
    }
    return nullptr;
  }
  return resp;
}

std::shared_ptr<Response> Broker::HandleFetch(const FetchRequest& r) {
  const TimeNs deadline = DeadlineAfter(rt_.Now(), r.max_wait_ms * kMillisecond);
  for (;;) {
    auto resp = std::make_shared<FetchResponse>();
    int64_t remaining = r.max_bytes;
    int64_t total = 0;
    bool error = false;
    for (const auto& [tp, fp] : r.partitions) {
      Partition* p = FindPartition(tp);
      FetchPartitionResponse pr;
      if (p == nullptr) {
        pr.error = metadata_.HasTopic(tp.topic) ? Error::kNotLeaderOrFollower
                                                : Error::kUnknownTopicOrPartition;
      } else {
        pr = p->Fetch(r.replica_id, fp, static_cast<int32_t>(std::max<int64_t>(remaining, 0)));
      }
      error |= pr.error != Error::kNone || pr.diverging_epoch.has_value();
      remaining -= pr.records_size_bytes;
      total += pr.records_size_bytes;
      resp->partitions[tp] = std::move(pr);
    }
    if (error || total >= r.min_bytes || rt_.Now() >= deadline) return resp;
    // A delayed fetch: wait for new data, a HW move or a role change on one of the fetched
    // partitions (Kafka's purgatory keys delayed fetches by partition), then read again; at
    // the deadline, one last read.
    Scheduler& sched = Scheduler::Current();
    const WaitTicket ticket = sched.Arm();
    for (const auto& [tp, fp] : r.partitions) {
      if (Partition* p = FindPartition(tp)) p->WatchData(ticket);
    }
    (void)sched.Park(deadline);
  }
}

std::shared_ptr<Response> Broker::HandleListOffsets(const ListOffsetsRequest& r) {
  auto resp = std::make_shared<ListOffsetsResponse>();
  for (const auto& [tp, ts] : r.timestamps) {
    Partition* p = FindPartition(tp);
    if (p == nullptr) {
      resp->partitions[tp].error = Error::kUnknownTopicOrPartition;
      continue;
    }
    resp->partitions[tp] = p->ListOffset(ts, r.replica_id < 0);
  }
  return resp;
}

std::shared_ptr<Response> Broker::HandleMetadata(const MetadataRequest& r) {
  if (r.topics.has_value() && r.allow_auto_topic_creation && settings_.auto_create_topics) {
    MaybeAutoCreate(*r.topics);
  }
  return metadata_.Answer(r);
}

void Broker::MaybeAutoCreate(const std::vector<std::string>& topics) {
  auto req = std::make_shared<CreateTopicsRequest>();
  for (const std::string& t : topics) {
    if (!metadata_.HasTopic(t)) req->topics.push_back(CreatableTopic{t, -1, -1, {}, {}});
  }
  if (req->topics.empty()) return;
  // Fire and forget: the client retries its metadata request until the topic appears.
  SubmitToController(req, nullptr);
}

void Broker::SubmitToController(std::shared_ptr<Request> request, std::function<void()> done) {
  rt_.Spawn("to-controller", [this, request, done] {
    if (controller_handler_ != nullptr) {
      (void)controller_handler_(request);
    } else if (auto info = metadata_.Broker(metadata_.controller_id())) {
      RpcClient client(rt_, info->node, absl::StrCat("broker-", settings_.broker_id));
      (void)client.Call(request, DeadlineAfter(rt_.Now(), 30 * kSecond));
    }
    if (done) done();
  });
}

std::shared_ptr<Response> Broker::HandleOffsetsForLeaderEpoch(
    const OffsetsForLeaderEpochRequest& r) {
  auto resp = std::make_shared<OffsetsForLeaderEpochResponse>();
  for (const auto& [tp, q] : r.partitions) {
    Partition* p = FindPartition(tp);
    if (p == nullptr) {
      resp->partitions[tp].error = Error::kUnknownTopicOrPartition;
      continue;
    }
    resp->partitions[tp] = p->EndOffsetForEpoch(q.current_leader_epoch, q.leader_epoch);
  }
  return resp;
}

std::shared_ptr<Response> Broker::HandleInitProducerId(const InitProducerIdRequest& r) {
  auto resp = std::make_shared<InitProducerIdResponse>();
  // Unique across brokers and restarts: the metadata-service session id is never reused.
  resp->producer_id = (metastore_->session() << 20) | (next_producer_id_++ & 0xfffff);
  resp->producer_epoch = 0;
  if (metastore_->session() == 0) resp->error = Error::kCoordinatorNotAvailable;
  return resp;
}

std::shared_ptr<Response> Broker::HandleLeaderAndIsr(const LeaderAndIsrRequest& r) {
  auto resp = std::make_shared<LeaderAndIsrResponse>();
  if (r.controller_epoch < controller_epoch_seen_) {
    resp->error = Error::kStaleControllerEpoch;
    return resp;
  }
  controller_epoch_seen_ = r.controller_epoch;
  for (const auto& [id, info] : r.topic_configs) topic_configs_[id] = info;
  for (const BrokerInfo& b : r.live_leaders) known_brokers_[b.id] = b;
  for (const auto& [tp, st] : r.partitions) {
    if (std::find(st.replicas.begin(), st.replicas.end(), settings_.broker_id) ==
        st.replicas.end()) {
      continue;
    }
    TopicSettings ts = TopicSettings::Resolve(settings_, topic_configs_[tp.topic]);
    Partition* p = GetOrCreatePartition(tp, ts);
    bool accepted;
    if (st.leader == settings_.broker_id) {
      accepted = p->BecomeLeader(st, ts);
      if (accepted) Unfollow(tp);
    } else {
      accepted = p->BecomeFollower(st, ts);
      if (accepted) {
        Unfollow(tp);
        if (st.leader != kNoBroker) Follow(p);
      }
    }
    resp->partitions[tp] = accepted ? Error::kNone : Error::kFencedLeaderEpoch;
  }
  return resp;
}

void Broker::Follow(Partition* p) {
  const BrokerId leader = p->leader();
  NodeId node = kNoNode;
  if (auto it = known_brokers_.find(leader); it != known_brokers_.end()) node = it->second.node;
  if (auto b = metadata_.Broker(leader)) node = b->node;
  if (node == kNoNode) return;  // learnt with the next UpdateMetadata
  const std::pair<BrokerId, int32_t> key{leader, FetcherId(p->tp(), settings_.num_replica_fetchers)};
  auto& f = fetchers_[key];
  if (f == nullptr) {
    f = std::make_unique<ReplicaFetcher>(rt_, settings_, leader, node,
                                         [this](const TopicPartition& tp) {
                                           return FindPartition(tp);
                                         });
  }
  f->Add(p->tp());
  following_[p->tp()] = key;
}

void Broker::Unfollow(const TopicPartition& tp) {
  auto it = following_.find(tp);
  if (it == following_.end()) return;
  auto f = fetchers_.find(it->second);
  if (f != fetchers_.end()) {
    f->second->Remove(tp);
    if (f->second->empty()) {
      f->second->Stop();  // the fiber owns the shared state it uses
      fetchers_.erase(f);
    }
  }
  following_.erase(it);
}

std::shared_ptr<Response> Broker::HandleUpdateMetadata(const UpdateMetadataRequest& r) {
  auto resp = std::make_shared<UpdateMetadataResponse>();
  if (!metadata_.Update(r)) {
    resp->error = Error::kStaleControllerEpoch;
    return resp;
  }
  for (const BrokerInfo& b : r.live_brokers) known_brokers_[b.id] = b;
  if (!r.deleted_topics.empty() && on_topics_deleted_ != nullptr) on_topics_deleted_(r.deleted_topics);
  // Followers whose leader was unknown when they became followers start fetching now.
  for (auto& [tp, p] : partitions_) {
    if (!p->is_leader() && p->leader() != kNoBroker && following_.count(tp) == 0) {
      Follow(p.get());
    }
  }
  return resp;
}

std::shared_ptr<Response> Broker::HandleStopReplica(const StopReplicaRequest& r) {
  auto resp = std::make_shared<StopReplicaResponse>();
  if (r.controller_epoch < controller_epoch_seen_) {
    resp->error = Error::kStaleControllerEpoch;
    return resp;
  }
  if (r.delete_partitions) {
    std::set<std::string> topics;
    for (const TopicPartition& tp : r.partitions) topics.insert(tp.topic);
    for (const std::string& t : topics) ++topic_deletions_[t];
  }
  for (const TopicPartition& tp : r.partitions) {
    Unfollow(tp);
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) {
      // Not open (e.g. a broker just restarted, told to delete what it had on disk): the
      // files still go, or a recreated partition of that name would recover them.
      if (r.delete_partitions) {
        for (const std::string& f : rt_.fs().List(LogDir(tp) + "/")) (void)rt_.fs().Delete(f);
      }
      continue;
    }
    it->second->Stop();
    if (r.delete_partitions) {
      // Requests may still be inside the partition (a produce waiting on the disk): it is
      // kept, stopped, until the broker goes away; its log files go now.
      std::unique_ptr<Partition> gone = std::move(it->second);
      partitions_.erase(it);
      gone->log().DeleteAllFiles();
      deleted_partitions_.push_back(std::move(gone));
    }
  }
  return resp;
}

// Kafka's log retention task: every log.retention.check.interval.ms, each log deletes the
// oldest segments past retention.ms / retention.bytes (below the high watermark; compacted
// topics are left to the cleaner).
void Broker::RetentionLoop() {
  for (;;) {
    rt_.Sleep(settings_.retention_check_interval_ns);
    std::vector<TopicPartition> tps;
    for (const auto& [tp, p] : partitions_) tps.push_back(tp);
    for (const TopicPartition& tp : tps) {
      Partition* p = FindPartition(tp);
      if (p == nullptr) continue;
      const int deleted = p->log().DeleteOldSegments(rt_.Now() / kMillisecond);
      if (deleted > 0) {
        rt_.Trace("retention", absl::StrCat(tp.ToString(), " deleted ", deleted,
                                            " segments; log start ",
                                            p->log().log_start_offset()));
      }
    }
  }
}

void Broker::IsrLoop() {
  const DurationNs period = std::max<DurationNs>(settings_.replica_lag_time_max_ns / 2, kMillisecond);
  for (;;) {
    rt_.Sleep(period);
    auto req = std::make_shared<AlterPartitionRequest>();
    req->broker_id = settings_.broker_id;
    for (auto& [tp, p] : partitions_) {
      if (!p->is_leader()) continue;
      if (auto wanted = p->WantedIsr(rt_.Now())) {
        req->partitions[tp] = {p->leader_epoch(), *wanted, p->partition_epoch()};
      }
    }
    if (req->partitions.empty()) continue;
    ResponsePtr resp;
    if (controller_handler_ != nullptr) {
      resp = controller_handler_(req);
    } else {
      auto c = metadata_.Broker(metadata_.controller_id());
      if (!c) continue;
      if (controller_client_ == nullptr || controller_client_for_ != c->id) {
        controller_client_ = std::make_unique<RpcClient>(rt_, c->node,
                                                         absl::StrCat("broker-", settings_.broker_id));
        controller_client_for_ = c->id;
      }
      auto r = controller_client_->Call(req, DeadlineAfter(rt_.Now(), 30 * kSecond));
      if (!r.ok()) continue;
      resp = *r;
    }
    if (resp == nullptr || resp->api() != ApiKey::kAlterPartition || IsErrorResponse(*resp)) {
      continue;
    }
    const auto& ar = static_cast<const AlterPartitionResponse&>(*resp);
    for (const auto& [tp, pr] : ar.partitions) {
      Partition* p = FindPartition(tp);
      if (p != nullptr && pr.error == Error::kNone && p->is_leader()) {
        p->ApplyCommittedIsr(pr.state);
      }
    }
  }
}

void Broker::CheckpointLoop() {
  for (;;) {
    rt_.Sleep(settings_.hw_checkpoint_interval_ns);
    // Writes block, and partitions may come and go meanwhile: walk a copy of the keys.
    std::vector<TopicPartition> tps;
    for (const auto& [tp, p] : partitions_) tps.push_back(tp);
    for (const TopicPartition& tp : tps) {
      if (Partition* p = FindPartition(tp)) (void)p->log().CheckpointHighWatermark();
    }
  }
}

void Broker::FlushLoop() {
  TimeNs next_checkpoint = DeadlineAfter(rt_.Now(), settings_.recovery_point_checkpoint_interval_ns);
  for (;;) {
    rt_.Sleep(kSecond);
    std::vector<TopicPartition> tps;
    for (const auto& [tp, p] : partitions_) tps.push_back(tp);
    for (const TopicPartition& tp : tps) {
      Partition* p = FindPartition(tp);
      if (p != nullptr && p->log().recovery_point() < p->log().active_segment_base()) {
        (void)p->log().FlushClosedSegments();
      }
    }
    if (rt_.Now() < next_checkpoint) continue;
    next_checkpoint = DeadlineAfter(rt_.Now(), settings_.recovery_point_checkpoint_interval_ns);
    for (const TopicPartition& tp : tps) {
      if (Partition* p = FindPartition(tp)) (void)p->log().CheckpointRecoveryPoint();
    }
  }
}

}  // namespace ksim
