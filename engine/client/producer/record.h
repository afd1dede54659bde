// What an application sends (Kafka's ProducerRecord) and learns back (RecordMetadata).
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_RECORD_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "engine/client/producer/serializer.h"
#include "engine/protocol/api.h"

namespace ksim {

struct RecordMetadata {
  TopicPartition tp;            // partition -1 when a send failed before one was chosen
  int64_t offset = -1;          // -1 with acks=0 and on failure
  int64_t timestamp_ms = -1;
};

// A producer record. Values are usually synthetic (sizes only); `record_id` identifies the
// record in the simulator's history and survives interceptors.
struct SimRecord {
  std::string topic;
  std::optional<int32_t> partition;
  Datum key;    // before key.serializer; null: no key
  Datum value;  // before value.serializer
  int64_t timestamp_ms = -1;  // -1: now
  uint64_t record_id = 0;
  // Set by send() once serialized (observers read them); -1: null.
  int32_t serialized_key_bytes = -1;
  int32_t serialized_value_bytes = -1;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_RECORD_H_
