// Java's hashing as Kafka uses it: String.hashCode over UTF-16 code units and Utils.abs. Kafka
// picks a group's coordinator partition and a partition's replica fetcher with them.
#ifndef KSIM_ENGINE_PROTOCOL_JAVA_HASH_H_
#define KSIM_ENGINE_PROTOCOL_JAVA_HASH_H_

#include <cstdint>
#include <string_view>

namespace ksim {

// String.hashCode of the UTF-16 form of `utf8` (invalid UTF-8 bytes count as U+FFFD).
int32_t JavaStringHashCode(std::string_view utf8);
// Kafka's Utils.abs: Integer.MIN_VALUE -> 0, else Math.abs.
inline int32_t KafkaAbs(int32_t n) { return n == INT32_MIN ? 0 : (n < 0 ? -n : n); }

}  // namespace ksim

#endif  // KSIM_ENGINE_PROTOCOL_JAVA_HASH_H_
