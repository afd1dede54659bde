// Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils.murmur2), bit-compatible with the
// Java client: keyed records go to ToPositive(Murmur2(key)) % partitions.
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_MURMUR2_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_MURMUR2_H_

#include <cstdint>
#include <string_view>

namespace ksim {

// Java's signed 32-bit result.
int32_t Murmur2(std::string_view data);
// Utils.toPositive: clears the sign bit (not Math.abs).
inline int32_t ToPositive(int32_t x) { return x & 0x7fffffff; }
inline int32_t KeyedPartition(std::string_view key, int32_t num_partitions) {
  return ToPositive(Murmur2(key)) % num_partitions;
}

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_MURMUR2_H_
