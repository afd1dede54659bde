// Which __consumer_offsets partition (and so which broker) coordinates a group:
// abs(group.id.hashCode()) % offsets.topic.num.partitions, with Java's String.hashCode over
// UTF-16 code units and Kafka's Utils.abs (Integer.MIN_VALUE maps to 0).
#ifndef KSIM_ENGINE_COORDINATOR_COORDINATOR_FOR_H_
#define KSIM_ENGINE_COORDINATOR_COORDINATOR_FOR_H_

#include <cstdint>
#include <string_view>

#include "engine/protocol/java_hash.h"

namespace ksim {

inline int32_t CoordinatorPartition(std::string_view group_id, int32_t offsets_partitions) {
  return KafkaAbs(JavaStringHashCode(group_id)) % offsets_partitions;
}

}  // namespace ksim

#endif  // KSIM_ENGINE_COORDINATOR_COORDINATOR_FOR_H_
