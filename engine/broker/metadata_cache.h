// A broker's view of the cluster, fed by the controller's UpdateMetadata requests: live
// brokers, the controller, and every partition's leader/ISR. It answers Metadata requests.
#ifndef KSIM_ENGINE_BROKER_METADATA_CACHE_H_
#define KSIM_ENGINE_BROKER_METADATA_CACHE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/protocol/messages.h"

namespace ksim {

class MetadataCache {
 public:
  // Applies an UpdateMetadata; stale controller epochs are ignored (returns false).
  bool Update(const UpdateMetadataRequest& r);
  std::shared_ptr<MetadataResponse> Answer(const MetadataRequest& r) const;

  BrokerId controller_id() const { return controller_id_; }
  int32_t controller_epoch() const { return controller_epoch_; }
  std::optional<BrokerInfo> Broker(BrokerId id) const;
  const std::map<BrokerId, BrokerInfo>& brokers() const { return brokers_; }
  bool HasTopic(const std::string& topic) const;
  std::optional<PartitionState> Partition(const TopicPartition& tp) const;
  int32_t PartitionCount(const std::string& topic) const;

 private:
  BrokerId controller_id_ = kNoBroker;
  int32_t controller_epoch_ = -1;
  std::map<BrokerId, BrokerInfo> brokers_;
  std::map<std::string, std::map<int32_t, PartitionState>> topics_;
  std::map<std::string, bool> internal_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_METADATA_CACHE_H_
