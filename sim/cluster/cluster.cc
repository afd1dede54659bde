#include "sim/cluster/cluster.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/client/client_metadata.h"
#include "engine/controller/controller.h"
#include "engine/coordinator/group_coordinator.h"
#include "engine/log/record_batch.h"
#include "engine/metastore/metastore_server.h"
#include "engine/runtime/check.h"
#include "sim/cluster/workload.h"

namespace ksim {
namespace {

LinkProfile::Distribution DistributionOf(const std::string& name) {
  if (name == "constant") return LinkProfile::Distribution::kConstant;
  if (name == "normal") return LinkProfile::Distribution::kNormal;
  if (name == "exponential") return LinkProfile::Distribution::kExponential;
  return LinkProfile::Distribution::kUniform;
}

DiskProfile DiskProfileOf(const HardwareProfile& hw) {
  DiskProfile d = DiskProfile::Commodity2014();
  d.read_bytes_per_second = hw.disk_read_bytes_per_second;
  d.write_bytes_per_second = hw.disk_write_bytes_per_second;
  d.read_latency_ns = hw.disk_read_latency_ns;
  d.write_latency_ns = hw.disk_write_latency_ns;
  d.fsync_latency_ns = hw.fsync_latency_ns;
  d.page_cache_bytes = hw.page_cache_bytes;
  d.memory_bytes_per_second = hw.memory_bytes_per_second;
  return d;
}

// What a broker node keeps alive while it is up: destroyed when it crashes.
struct BrokerNodeState {
  std::shared_ptr<Broker> broker;
  std::unique_ptr<ControllerElector> elector;
  std::unique_ptr<GroupCoordinator> coordinator;
};

}  // namespace

Cluster::Cluster(const Scenario& scenario) : sc_(scenario) {
  kernel_ = std::make_unique<Kernel>(KernelOptions{.seed = sc_.seed});
  net_ = std::make_unique<Network>(*kernel_);
  net_->SetDefaultLink(LinkProfile{sc_.network.latency_ns, sc_.network.jitter_ns,
                                   DistributionOf(sc_.network.distribution)});
  BuildNodes();
  faults_ = std::make_unique<FaultInjector>(*kernel_, *this, &result_.faults);
  workload_ = std::make_unique<Workload>(*this, sc_);
  history_.promises_no_duplicates = true;
  history_.promises_order = true;
  const bool debug = std::getenv("KSIM_DEBUG_TRACE") != nullptr;
  kernel_->trace().SetSink([this, debug](const TraceEvent& e) {
    if (debug) {
      std::fprintf(stderr, "%s %s %s %s\n", FormatTime(e.time).c_str(),
                   e.node >= 0 ? kernel_->NodeName(e.node).c_str() : "-", e.kind.c_str(),
                   e.detail.c_str());
    }
    static const char* kTimeline[] = {"fault", "election", "unclean-election", "offline",
                                      "isr-shrink", "isr-expand", "become-leader", "crash",
                                      "restart", "controller", "rebalance", "truncate"};
    for (const char* k : kTimeline) {
      if (e.kind == k) {
        result_.timeline.push_back(e);
        return;
      }
    }
  });
}

Cluster::~Cluster() {
  // Fibers reference hosts, brokers and the workload: unwind them (the kernel's destructor)
  // before any of those go; connection ends that outlive it must not call into it.
  kernel_.reset();
  net_->Shutdown();
}

NodeId Cluster::AddClientNode(const std::string& name) {
  NodeId node = kernel_->AddNode(name, nullptr);
  hosts_[node] = std::make_unique<Host>(*kernel_, *net_, node, nullptr, 0);
  net_->AddNode(node, NicProfile{sc_.hardware.nic_bits_per_second, sc_.hardware.nic_bits_per_second});
  client_nodes_.push_back(node);
  kernel_->Start(node);
  return node;
}

void Cluster::BuildNodes() {
  const NicProfile nic{sc_.hardware.nic_bits_per_second, sc_.hardware.nic_bits_per_second};
  metadata_node_ = static_cast<NodeId>(kernel_->node_count());
  KSIM_CHECK(kernel_->AddNode("metadata", [this] {
    auto server = std::make_shared<MetaStoreServer>(*hosts_.at(metadata_node_));
    kernel_->SetNodeState(metadata_node_, server);
    server->Start();
  }) == metadata_node_);
  hosts_[metadata_node_] = std::make_unique<Host>(*kernel_, *net_, metadata_node_, nullptr, 0);
  net_->AddNode(metadata_node_, nic);
  for (int32_t b = 1; b <= sc_.brokers; ++b) {
    const NodeId node = static_cast<NodeId>(kernel_->node_count());
    KSIM_CHECK(kernel_->AddNode(absl::StrCat("broker-", b),
                                [this, node, b] { BootBroker(node, b); }) == node);
    hosts_[node] = std::make_unique<Host>(
        *kernel_, *net_, node, std::make_unique<Disk>(*kernel_, node, DiskProfileOf(sc_.hardware)),
        sc_.hardware.cpu_cores);
    net_->AddNode(node, nic);
    broker_nodes_.push_back(node);
  }
  admin_node_ = AddClientNode("admin");
}

void Cluster::BootBroker(NodeId node, int32_t broker_id) {
  ++broker_boots_[node];
  Host& host = *hosts_.at(node);
  ConfigMap cfg = sc_.broker_config;
  if (!sc_.racks.empty()) cfg["broker.rack"] = sc_.racks[broker_id - 1];
  auto config = Config::Make(BrokerConfigDef(), cfg);
  KSIM_CHECK_MSG(config.ok(), "broker config validated at load time");
  auto state = std::make_shared<BrokerNodeState>();
  state->broker = std::make_shared<Broker>(host, BrokerSettings::FromConfig(broker_id, *config),
                                           metadata_node_);
  Broker* broker = state->broker.get();
  state->elector = std::make_unique<ControllerElector>(*broker, ControllerConfigFrom(*config));
  ControllerElector* elector = state->elector.get();
  broker->set_on_registered([elector] { elector->Start(); });
  GroupCoordinatorConfig gc = GroupCoordinatorConfigFrom(*config);
  gc.offsets_topic_replication_factor = std::min(gc.offsets_topic_replication_factor, sc_.brokers);
  state->coordinator = std::make_unique<GroupCoordinator>(host, *broker, gc);
  GroupCoordinator* coordinator = state->coordinator.get();
  broker->set_group_handler([coordinator](const RequestPtr& r) { return coordinator->Handle(r); });
  brokers_[node] = state->broker;
  kernel_->SetNodeState(node, state);
  broker->Start();
  coordinator->Start();
}

Broker* Cluster::BrokerAt(NodeId node) {
  auto it = brokers_.find(node);
  if (it == brokers_.end() || !kernel_->IsUp(node)) return nullptr;
  auto b = it->second.lock();
  return b.get();
}

std::vector<NodeId> Cluster::Resolve(const std::string& name) const {
  if (name == "brokers") return broker_nodes_;
  if (name == "metadata") return {metadata_node_};
  if (name == "clients") {
    std::vector<NodeId> out;
    for (NodeId n : client_nodes_) {
      if (n != admin_node_) out.push_back(n);
    }
    return out;
  }
  if (name == "all") {
    std::vector<NodeId> out = broker_nodes_;
    out.push_back(metadata_node_);
    for (NodeId n : client_nodes_) out.push_back(n);
    return out;
  }
  for (size_t n = 0; n < kernel_->node_count(); ++n) {
    if (kernel_->NodeName(static_cast<NodeId>(n)) == name) return {static_cast<NodeId>(n)};
  }
  return {};
}

void Cluster::Crash(NodeId node, bool power_loss) {
  kernel_->Crash(node);
  Host& host = *hosts_.at(node);
  host.ResetCpu();
  if (Disk* d = host.disk()) {
    if (power_loss) {
      d->PowerLoss();
    } else {
      d->ProcessCrash();
    }
  }
}

void Cluster::Restart(NodeId node) { kernel_->Restart(node); }

void Cluster::SlowDisk(NodeId node, double factor) {
  if (Disk* d = hosts_.at(node)->disk()) d->SetSlowdown(factor);
}

std::shared_ptr<const Response> Cluster::CallController(const std::shared_ptr<Request>& request) {
  Host& host = *hosts_.at(admin_node_);
  ClientMetadata md(host, broker_nodes_, "admin", 5 * kMinute, 100 * kMillisecond);
  md.set_allow_auto_create(false);
  for (int attempt = 0; attempt < 100; ++attempt) {
    md.Refresh(DeadlineAfter(host.Now(), 5 * kSecond));
    NodeId controller = md.NodeOf(md.controller());
    if (controller != kNoNode) {
      RpcClient client(host, controller, "admin");
      auto resp = client.Call(request, DeadlineAfter(host.Now(), 30 * kSecond));
      if (resp.ok() && (*resp)->api() == request->api() && !IsErrorResponse(**resp)) {
        return *resp;
      }
    }
    host.Sleep(200 * kMillisecond);
  }
  return nullptr;
}

void Cluster::AddPartitions(const std::string& topic, int32_t count) {
  kernel_->Spawn(admin_node_, "add-partitions", [this, topic, count] {
    auto req = std::make_shared<CreatePartitionsRequest>();
    req->new_total_counts[topic] = count;
    auto resp = CallController(req);
    if (resp == nullptr) return;
    const auto& r = static_cast<const CreatePartitionsResponse&>(*resp);
    auto it = r.topics.find(topic);
    const Error e = it == r.topics.end() ? Error::kUnknownServerError : it->second.error;
    kernel_->Trace(kNoNode, "add-partitions", absl::StrCat(topic, " to ", count, ": ", ErrorName(e)));
  });
}

void Cluster::DeleteTopic(const std::string& topic) {
  kernel_->Spawn(admin_node_, "delete-topic", [this, topic] {
    // (Runs as the admin client: DeleteTopics to the controller, then waits for every live
    // replica to be deleted so the run can date the deletion.)
    // The brokers holding a replica now, and how many deletions of the topic each has seen.
    std::map<NodeId, std::pair<int32_t, int32_t>> holders;  // node -> (boot, deletions)
    for (NodeId node : broker_nodes_) {
      const Broker* b = BrokerAt(node);
      if (b == nullptr) continue;
      for (const auto& [tp, p] : b->partitions()) {
        if (tp.topic == topic) holders[node] = {broker_boots_[node], b->TopicDeletions(topic)};
      }
    }
    auto req = std::make_shared<DeleteTopicsRequest>();
    req->topics = {topic};
    auto resp = CallController(req);
    if (resp == nullptr) return;
    const auto& r = static_cast<const DeleteTopicsResponse&>(*resp);
    auto it = r.topics.find(topic);
    const Error e = it == r.topics.end() ? Error::kUnknownServerError : it->second;
    kernel_->Trace(kNoNode, "delete-topic", absl::StrCat(topic, ": ", ErrorName(e)));
    if (e != Error::kNone) {
      // Refused (e.g. delete.topic.enable=false): say so where the fault is listed.
      result_.faults.push_back(
          {hosts_.at(admin_node_)->Now(), absl::StrCat("delete topic ", topic, " refused: ", ErrorName(e))});
      return;
    }
    // The deletion is dated when every live replica is gone: a record acknowledged before
    // then may belong to the old topic (checkers then do not expect it to survive).
    Host& host = *hosts_.at(admin_node_);
    const TimeNs give_up = DeadlineAfter(host.Now(), kMinute);
    for (;;) {
      bool done = true;
      for (const auto& [node, seen] : holders) {
        const Broker* b = BrokerAt(node);
        done &= b == nullptr || broker_boots_[node] != seen.first ||
                b->TopicDeletions(topic) > seen.second;
      }
      if (done || host.Now() >= give_up) break;
      host.Sleep(10 * kMillisecond);
    }
    topic_deletions_.push_back({host.Now(), topic});
    history_.ForgetTopic(topic, host.Now());
  });
}

ClusterDescription Cluster::Describe() {
  Host& host = *hosts_.at(admin_node_);
  ClusterDescription d;
  d.time = host.Now();
  auto req = std::make_shared<MetadataRequest>();
  req->allow_auto_topic_creation = false;
  // Like an AdminClient: ask the brokers in turn until one answers.
  for (NodeId b : broker_nodes_) {
    RpcClient client(host, b, "admin", kSecond);
    auto resp = client.Call(req, DeadlineAfter(host.Now(), 2 * kSecond));
    if (!resp.ok() || (*resp)->api() != ApiKey::kMetadata || IsErrorResponse(**resp)) continue;
    const auto& m = static_cast<const MetadataResponse&>(**resp);
    d.controller = m.controller_id;
    for (const TopicMetadata& t : m.topics) {
      TopicDescription td;
      td.topic = t.name;
      for (const TopicSpec& spec : sc_.topics) {
        if (spec.name == t.name) td.configs = spec.config;
      }
      for (const PartitionMetadata& p : t.partitions) {
        td.partitions.push_back(PartitionDescription{p.partition, p.leader, p.leader_epoch,
                                                     p.replicas, p.isr, p.offline_replicas});
      }
      d.topics.push_back(std::move(td));
    }
    std::sort(d.topics.begin(), d.topics.end(),
              [](const TopicDescription& x, const TopicDescription& y) { return x.topic < y.topic; });
    kernel_->Trace(kNoNode, "describe", absl::StrCat(d.topics.size(), " topics"));
    return d;
  }
  d.error = "no broker answered the Metadata request";
  return d;
}

void Cluster::CreateTopics() {
  Host& host = *hosts_.at(admin_node_);
  ClientMetadata md(host, broker_nodes_, "admin", 5 * kMinute, 100 * kMillisecond);
  md.set_allow_auto_create(false);
  for (const TopicSpec& t : sc_.topics) md.AddTopic(t.name);
  auto req = std::make_shared<CreateTopicsRequest>();
  for (const TopicSpec& t : sc_.topics) {
    req->topics.push_back(CreatableTopic{t.name, t.partitions,
                                         static_cast<int16_t>(t.replication_factor), {},
                                         t.config});
  }
  // Send CreateTopics to the controller until it accepts (it may not be elected yet).
  for (bool created = req->topics.empty(); !created;) {
    md.Refresh(DeadlineAfter(host.Now(), 5 * kSecond));
    NodeId controller = md.NodeOf(md.controller());
    if (controller != kNoNode) {
      RpcClient client(host, controller, "admin");
      auto resp = client.Call(req, DeadlineAfter(host.Now(), 30 * kSecond));
      if (resp.ok() && (*resp)->api() == ApiKey::kCreateTopics && !IsErrorResponse(**resp)) {
        created = true;
        for (const auto& [name, r] : static_cast<const CreateTopicsResponse&>(**resp).topics) {
          if (r.error != Error::kNone && r.error != Error::kTopicAlreadyExists) created = false;
        }
        if (created) break;
      }
    }
    host.Sleep(200 * kMillisecond);
  }
  // Wait until every partition has a leader.
  for (;;) {
    md.Refresh(DeadlineAfter(host.Now(), 5 * kSecond));
    bool ready = true;
    for (const TopicSpec& t : sc_.topics) {
      ready &= md.AvailablePartitions(t.name).size() == static_cast<size_t>(t.partitions);
    }
    if (ready) break;
    host.Sleep(100 * kMillisecond);
  }
  kernel_->Trace(kNoNode, "topics-ready", absl::StrCat(sc_.topics.size(), " topics"));
}

void Cluster::FinalRead() {
  Host& host = *hosts_.at(admin_node_);
  ClientMetadata md(host, broker_nodes_, "final-reader", 5 * kMinute, 100 * kMillisecond);
  md.set_allow_auto_create(false);
  for (const TopicSpec& t : sc_.topics) md.AddTopic(t.name);
  std::map<NodeId, std::unique_ptr<RpcClient>> clients;
  md.Refresh(DeadlineAfter(host.Now(), 5 * kSecond));
  for (const TopicSpec& t : sc_.topics) {
    // Partitions added during the run (add-partitions) are read too. A deleted topic is read
    // only if producers recreated it (with the partitions it has now).
    const bool deleted = std::any_of(topic_deletions_.begin(), topic_deletions_.end(),
                                     [&](const auto& d) { return d.second == t.name; });
    const int32_t partitions =
        deleted ? md.PartitionCount(t.name) : std::max(t.partitions, md.PartitionCount(t.name));
    for (int32_t p = 0; p < partitions; ++p) {
      TopicPartition tp{t.name, p};
      auto& log = history_.final_reads[tp];
      bool complete = false;
      int64_t offset = -1;
      // Give the partition up to a minute of virtual time to become readable to its end.
      const TimeNs give_up = DeadlineAfter(host.Now(), kMinute);
      // Metadata is refreshed only when it failed us (once per partition cost a metadata
      // round trip per partition: most of the final read of a 5,000-partition cluster).
      bool refresh = false;
      while (!complete && host.Now() < give_up) {
        if (refresh) md.Refresh(DeadlineAfter(host.Now(), 5 * kSecond));
        refresh = true;
        NodeId node = md.NodeOf(md.Leader(tp));
        if (node == kNoNode) {
          host.Sleep(500 * kMillisecond);
          continue;
        }
        auto& client = clients[node];
        if (client == nullptr) client = std::make_unique<RpcClient>(host, node, "final-reader");
        auto req = std::make_shared<FetchRequest>();
        req->max_wait_ms = 0;
        FetchPartition fp;
        fp.fetch_offset = offset < 0 ? 0 : offset;
        fp.partition_max_bytes = 8 << 20;
        req->partitions[tp] = fp;
        req->max_bytes = 8 << 20;
        auto resp = client->Call(req, DeadlineAfter(host.Now(), 10 * kSecond));
        if (!resp.ok()) continue;
        const auto& pr = static_cast<const FetchResponse&>(**resp).partitions.at(tp);
        if (pr.error == Error::kOffsetOutOfRange && offset < 0) {
          offset = pr.log_start_offset;
          refresh = false;
          continue;
        }
        if (pr.error != Error::kNone) {
          host.Sleep(200 * kMillisecond);
          continue;
        }
        if (offset < 0) offset = fp.fetch_offset;
        refresh = false;
        for (const BatchPtr& b : pr.batches) {
          for (int32_t i = 0; i < b->record_count(); ++i) {
            const int64_t o = b->base_offset() + i;
            if (o >= offset && o < pr.high_watermark) log[o] = b->record_id(i);
          }
          offset = std::max(offset, b->last_offset() + 1);
        }
        if (offset >= pr.high_watermark) complete = true;
      }
      history_.final_read_complete[tp] = complete;
    }
  }
}

void Cluster::SnapshotReplicas() {
  for (NodeId node : broker_nodes_) {
    Broker* broker = BrokerAt(node);
    const int32_t id = static_cast<int32_t>(
        std::find(broker_nodes_.begin(), broker_nodes_.end(), node) - broker_nodes_.begin() + 1);
    if (broker == nullptr) {
      for (const TopicSpec& t : sc_.topics) {
        for (int32_t p = 0; p < t.partitions; ++p) {
          ReplicaLog r;
          r.broker = id;
          r.alive = false;
          history_.replicas[{t.name, p}].push_back(r);
        }
      }
      continue;
    }
    for (const auto& [tp, part] : broker->partitions()) {
      ReplicaLog r;
      r.broker = id;
      r.high_watermark = part->high_watermark();
      r.log_start_offset = part->log().log_start_offset();
      int64_t offset = r.log_start_offset;
      while (offset < part->log_end_offset()) {
        auto read = part->log().Read(offset, 8 << 20, part->log_end_offset(), true);
        if (!read.ok() || read->empty()) break;
        for (const BatchPtr& b : *read) {
          for (int32_t i = 0; i < b->record_count(); ++i) {
            r.records[b->base_offset() + i] = b->record_id(i);
          }
          offset = b->last_offset() + 1;
        }
      }
      history_.replicas[tp].push_back(std::move(r));
    }
  }
}

RunResult Cluster::Run(const ProgressFn& progress) {
  result_.scenario = sc_.name;
  result_.file = sc_.file;
  result_.seed = sc_.seed;
  kernel_->Start(metadata_node_);
  for (NodeId b : broker_nodes_) kernel_->Start(b);
  Event topics_ready;
  kernel_->Spawn(admin_node_, "create-topics", [this, &topics_ready] {
    CreateTopics();
    topics_ready.Set();
  });
  faults_->Schedule(sc_.faults);
  if (sc_.nemesis.enabled) {
    faults_->StartNemesis(sc_.nemesis, sc_.nemesis.stop_ns.value_or(sc_.duration_ns),
                          &topics_ready);
  }
  workload_->Start(&topics_ready, sc_.duration_ns);
  if (!describe_at_.empty()) {
    std::vector<TimeNs> times = describe_at_;
    std::sort(times.begin(), times.end());
    kernel_->Spawn(admin_node_, "describe", [this, times] {
      for (TimeNs t : times) {
        if (t > hosts_.at(admin_node_)->Now()) hosts_.at(admin_node_)->SleepUntil(t);
        result_.describes.push_back(Describe());
      }
    });
  }
  const TimeNs end = sc_.duration_ns + sc_.settle_ns;
  auto run_to = [&](TimeNs t) {
    while (kernel_->Now() < t) {
      kernel_->RunUntil(std::min(t, kernel_->Now() + kSecond));
      ObserveRetention();
      if (progress) progress(kernel_->Now(), end);
    }
  };
  run_to(sc_.duration_ns);
  result_.workload_ns = sc_.duration_ns;
  // The workload ends: producers flush, faults heal, the cluster settles.
  workload_->Stop(10 * kSecond);
  kernel_->Spawn(kNoNode, "heal", [this] { faults_->HealAll(); });
  run_to(end);
  workload_->StopConsumers();
  run_to(end + kSecond);  // consumers commit and leave
  // Final read and replica snapshot, in simulated time.
  Event read_done;
  kernel_->Spawn(admin_node_, "final-read", [this, &read_done] {
    FinalRead();
    SnapshotReplicas();
    read_done.Set();
  });
  while (!read_done.is_set()) {
    kernel_->RunUntil(kernel_->Now() + kSecond);
    ObserveRetention();
    if (progress) progress(std::min(kernel_->Now(), end), end);
  }
  result_.simulated_ns = kernel_->Now();
  RunChecks();
  result_.trace_hash = kernel_->trace().HashHex();
  result_.events = kernel_->events_processed();
  return result_;
}

void Cluster::ObserveRetention() {
  // Only when every broker is up is every replica of a partition seen.
  std::map<TopicPartition, int64_t> floor;
  for (NodeId node : broker_nodes_) {
    Broker* broker = BrokerAt(node);
    if (broker == nullptr) return;
    for (const auto& [tp, part] : broker->partitions()) {
      if (absl::StartsWith(tp.topic, "__")) continue;
      const int64_t start = part->log().log_start_offset();
      auto [it, first] = floor.try_emplace(tp, start);
      if (!first) it->second = std::min(it->second, start);
    }
  }
  for (const auto& [tp, start] : floor) {
    if (start > 0) history_.ObserveLogStart(tp, start, kernel_->Now());
  }
  history_.Retire(kernel_->Now());
}

void Cluster::RunChecks() {
  std::vector<std::string> checks = sc_.expect;
  if (checks.empty()) {
    checks = {kNoLostAckedWrites, kConsistentOffsets, kReplicasAgree, kLiveness};
    if (!sc_.consumers.empty()) {
      checks.insert(checks.end(), {kAllConsumed, kGroupSafety, kCommitsMonotonic});
    }
  }
  for (const std::string& c : checks) result_.checks.push_back(RunCheck(c, history_));
}

}  // namespace ksim
