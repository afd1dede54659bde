// What the brokers and the controller store in the metadata service. Znode layout:
//   /controller                               ephemeral: ControllerIdPayload
//   /controller_epoch                         EpochPayload (versioned)
//   /brokers/ids/<id>                         ephemeral: BrokerInfoPayload (the broker creates it)
//   /brokers/topics/<topic>                   TopicAssignmentPayload: partition -> replicas, configs
//   /brokers/topics/<topic>/partitions/<p>    PartitionStatePayload: leader, epoch, ISR
//                                             (the znode version is the partition epoch)
//   /admin/delete_topics/<topic>              TopicDeletionPayload: replicas of a deleted
//                                             topic on brokers that were down, still to delete
#ifndef KSIM_ENGINE_BROKER_ZNODE_PAYLOADS_H_
#define KSIM_ENGINE_BROKER_ZNODE_PAYLOADS_H_

#include <map>
#include <string>
#include <vector>

#include "engine/protocol/messages.h"

namespace ksim {

struct BrokerInfoPayload : Payload {
  BrokerInfo info;
  // Unique per registration (the session id): a changed value means the broker restarted
  // ("bounced") even if the controller never saw its znode missing.
  int64_t registration = 0;
};

struct ControllerIdPayload : Payload {
  BrokerId id = kNoBroker;
};

struct EpochPayload : Payload {
  int32_t epoch = 0;
};

struct TopicAssignmentPayload : Payload {
  std::map<int32_t, std::vector<BrokerId>> replicas;
  std::map<std::string, std::string> configs;
};

struct PartitionStatePayload : Payload {
  PartitionState state;
};

struct TopicDeletionPayload : Payload {
  std::map<BrokerId, std::vector<int32_t>> pending;  // broker -> partitions to delete there
};

}  // namespace ksim

#endif  // KSIM_ENGINE_BROKER_ZNODE_PAYLOADS_H_
