#include "engine/client/client_metadata.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ksim {

ClientMetadata::ClientMetadata(Runtime& rt, std::vector<NodeId> bootstrap, std::string client_id,
                               DurationNs max_age_ns, DurationNs refresh_backoff_ns)
    : rt_(rt), bootstrap_(std::move(bootstrap)), client_id_(std::move(client_id)),
      max_age_ns_(max_age_ns), refresh_backoff_ns_(refresh_backoff_ns) {}

void ClientMetadata::AddTopic(const std::string& topic) {
  if (topics_.insert(topic).second) update_requested_ = true;
}

bool ClientMetadata::Refresh(TimeNs deadline) {
  MutexLock lock(refresh_mu_);
  // Candidate nodes: live brokers we know, then the bootstrap list.
  std::vector<NodeId> nodes;
  for (const auto& [id, b] : brokers_) nodes.push_back(b.node);
  for (NodeId n : bootstrap_) {
    if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
  }
  for (size_t attempt = 0; attempt < nodes.size() && rt_.Now() < deadline; ++attempt) {
    NodeId node = nodes[(next_node_ + attempt) % nodes.size()];
    auto& client = clients_[node];
    if (client == nullptr) client = std::make_unique<RpcClient>(rt_, node, client_id_, kSecond);
    auto req = std::make_shared<MetadataRequest>();
    if (!want_all_) req->topics = std::vector<std::string>(topics_.begin(), topics_.end());
    req->allow_auto_topic_creation = allow_auto_create_ && !want_all_;
    auto resp = client->Call(req, std::min(deadline, DeadlineAfter(rt_.Now(), 5 * kSecond)));
    if (!resp.ok() || (*resp)->api() != ApiKey::kMetadata) continue;
    const auto& m = static_cast<const MetadataResponse&>(**resp);
    if (m.brokers.empty()) continue;  // a broker that has not heard from the controller yet
    next_node_ = (next_node_ + attempt) % nodes.size();
    brokers_.clear();
    for (const BrokerInfo& b : m.brokers) brokers_[b.id] = b;
    controller_ = m.controller_id;
    for (const TopicMetadata& t : m.topics) {
      if (t.error == Error::kNone) partitions_[t.name] = t.partitions;
    }
    last_refresh_ = rt_.Now();
    update_requested_ = false;
    ++version_;
    return true;
  }
  next_node_++;
  return false;
}

void ClientMetadata::MaybeRefresh(TimeNs deadline) {
  if (update_requested_ || last_refresh_ < 0 || rt_.Now() - last_refresh_ >= max_age_ns_) {
    if (last_refresh_ >= 0 && rt_.Now() - last_refresh_ < refresh_backoff_ns_) return;
    Refresh(deadline);
  }
}

absl::StatusOr<int32_t> ClientMetadata::WaitForTopic(const std::string& topic, TimeNs deadline) {
  AddTopic(topic);
  for (;;) {
    if (int32_t n = PartitionCount(topic); n > 0) return n;
    if (rt_.Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("Topic ", topic, " not present in metadata before the deadline"));
    }
    if (!Refresh(deadline) || PartitionCount(topic) == 0) {
      rt_.SleepUntil(std::min(deadline, DeadlineAfter(rt_.Now(), refresh_backoff_ns_)));
    }
  }
}

std::vector<std::string> ClientMetadata::AllTopics() const {
  std::vector<std::string> out;
  for (const auto& [t, parts] : partitions_) out.push_back(t);
  return out;
}

int32_t ClientMetadata::PartitionCount(const std::string& topic) const {
  auto it = partitions_.find(topic);
  return it == partitions_.end() ? 0 : static_cast<int32_t>(it->second.size());
}

const PartitionMetadata* ClientMetadata::Find(const TopicPartition& tp) const {
  auto it = partitions_.find(tp.topic);
  if (it == partitions_.end()) return nullptr;
  const std::vector<PartitionMetadata>& parts = it->second;
  // Brokers list partitions in order, so the partition is usually at its own index.
  if (tp.partition >= 0 && static_cast<size_t>(tp.partition) < parts.size() &&
      parts[static_cast<size_t>(tp.partition)].partition == tp.partition) {
    return &parts[static_cast<size_t>(tp.partition)];
  }
  for (const PartitionMetadata& p : parts) {
    if (p.partition == tp.partition) return &p;
  }
  return nullptr;
}

BrokerId ClientMetadata::Leader(const TopicPartition& tp) const {
  const PartitionMetadata* p = Find(tp);
  return p == nullptr ? kNoBroker : p->leader;
}

int32_t ClientMetadata::LeaderEpoch(const TopicPartition& tp) const {
  const PartitionMetadata* p = Find(tp);
  return p == nullptr ? kNoLeaderEpoch : p->leader_epoch;
}

NodeId ClientMetadata::NodeOf(BrokerId broker) const {
  auto it = brokers_.find(broker);
  return it == brokers_.end() ? kNoNode : it->second.node;
}

std::vector<int32_t> ClientMetadata::AvailablePartitions(const std::string& topic) const {
  std::vector<int32_t> out;
  auto it = partitions_.find(topic);
  if (it == partitions_.end()) return out;
  for (const PartitionMetadata& p : it->second) {
    if (p.leader != kNoBroker) out.push_back(p.partition);
  }
  return out;
}

}  // namespace ksim
