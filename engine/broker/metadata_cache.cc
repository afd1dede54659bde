#include "engine/broker/metadata_cache.h"

#include <algorithm>

namespace ksim {

bool MetadataCache::Update(const UpdateMetadataRequest& r) {
  if (r.controller_epoch < controller_epoch_) return false;
  controller_epoch_ = r.controller_epoch;
  controller_id_ = r.controller_id;
  brokers_.clear();
  for (const BrokerInfo& b : r.live_brokers) brokers_[b.id] = b;
  for (const auto& [tp, st] : r.partitions) topics_[tp.topic][tp.partition] = st;
  for (const std::string& t : r.deleted_topics) topics_.erase(t);
  for (const auto& [t, internal] : r.internal_topics) internal_[t] = internal;
  return true;
}

std::optional<BrokerInfo> MetadataCache::Broker(BrokerId id) const {
  auto it = brokers_.find(id);
  if (it == brokers_.end()) return std::nullopt;
  return it->second;
}

bool MetadataCache::HasTopic(const std::string& topic) const { return topics_.count(topic) > 0; }

std::optional<PartitionState> MetadataCache::Partition(const TopicPartition& tp) const {
  auto t = topics_.find(tp.topic);
  if (t == topics_.end()) return std::nullopt;
  auto p = t->second.find(tp.partition);
  if (p == t->second.end()) return std::nullopt;
  return p->second;
}

int32_t MetadataCache::PartitionCount(const std::string& topic) const {
  auto t = topics_.find(topic);
  return t == topics_.end() ? 0 : static_cast<int32_t>(t->second.size());
}

std::shared_ptr<MetadataResponse> MetadataCache::Answer(const MetadataRequest& r) const {
  auto resp = std::make_shared<MetadataResponse>();
  for (const auto& [id, b] : brokers_) resp->brokers.push_back(b);
  resp->controller_id = controller_id_;
  std::vector<std::string> names;
  if (r.topics.has_value()) {
    names = *r.topics;
  } else {
    for (const auto& [t, parts] : topics_) names.push_back(t);
  }
  for (const std::string& name : names) {
    TopicMetadata tm;
    tm.name = name;
    auto t = topics_.find(name);
    if (t == topics_.end()) {
      tm.error = Error::kUnknownTopicOrPartition;
      resp->topics.push_back(std::move(tm));
      continue;
    }
    auto in = internal_.find(name);
    tm.is_internal = in != internal_.end() && in->second;
    for (const auto& [p, st] : t->second) {
      PartitionMetadata pm;
      pm.partition = p;
      pm.leader = brokers_.count(st.leader) > 0 ? st.leader : kNoBroker;
      pm.leader_epoch = st.leader_epoch;
      pm.replicas = st.replicas;
      pm.isr = st.isr;
      for (BrokerId b : st.replicas) {
        if (brokers_.count(b) == 0) pm.offline_replicas.push_back(b);
      }
      if (pm.leader == kNoBroker) pm.error = Error::kLeaderNotAvailable;
      tm.partitions.push_back(std::move(pm));
    }
    resp->topics.push_back(std::move(tm));
  }
  return resp;
}

}  // namespace ksim
