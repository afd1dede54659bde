// Keys and values as the application hands them to send(), and the serializers that turn them
// into bytes (Kafka's org.apache.kafka.common.serialization.*Serializer).
//
// The simulator does not materialise large values: a Datum may carry a real prefix (`text`) plus
// a count of synthetic bytes that only count towards sizes. Serializing a synthetic string or
// byte array keeps it synthetic; keys are always materialised (the partitioner hashes them).
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_SERIALIZER_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_SERIALIZER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/runtime/virtual_time.h"
#include "absl/status/statusor.h"

namespace ksim {

// One key or value before serialization (a Java object: null, String, Integer, Long, byte[]).
struct Datum {
  enum class Kind : uint8_t { kNull, kString, kInt, kLong, kBytes };
  Kind kind = Kind::kNull;
  std::string text;             // kString, kBytes: the materialised bytes
  int64_t number = 0;           // kInt, kLong
  int32_t synthetic_bytes = 0;  // kString, kBytes: further bytes, counted but not stored

  static Datum Null() { return Datum{}; }
  static Datum String(std::string s) { return Datum{Kind::kString, std::move(s), 0, 0}; }
  static Datum Int(int32_t v) { return Datum{Kind::kInt, {}, v, 0}; }
  static Datum Long(int64_t v) { return Datum{Kind::kLong, {}, v, 0}; }
  static Datum Bytes(std::string b) { return Datum{Kind::kBytes, std::move(b), 0, 0}; }
  static Datum SyntheticString(int32_t n) { return Datum{Kind::kString, {}, 0, n}; }
  static Datum SyntheticBytes(int32_t n) { return Datum{Kind::kBytes, {}, 0, n}; }

  bool is_null() const { return kind == Kind::kNull; }
  // The Java class name of the object (for SerializationException messages).
  const char* JavaClass() const;
};

// Serialized bytes: `bytes` followed by `synthetic_bytes` bytes that are not stored.
struct SerializedData {
  bool is_null = true;
  std::string bytes;
  int32_t synthetic_bytes = 0;
  int32_t size() const {
    return is_null ? -1 : static_cast<int32_t>(bytes.size()) + synthetic_bytes;
  }
};

class Serializer {
 public:
  virtual ~Serializer() = default;
  // Kafka's serialize(topic, data). Null serializes to null. REQUIRES: data is null or of the
  // kind accepts() names (SerializeField checks, as Java's cast would).
  virtual absl::StatusOr<SerializedData> Serialize(const std::string& topic, const Datum& data) = 0;
  // The Datum kind this serializer takes; workloads generate keys and values of this kind.
  virtual Datum::Kind accepts() const = 0;
  virtual void Close() {}
  // Client CPU to produce `out` (docs/COST_MODEL.md); custom serializers cost nothing unless
  // they say otherwise.
  virtual DurationNs CpuNs(const SerializedData& out) const { return 0; }
};

using SerializerFactory = std::function<std::unique_ptr<Serializer>()>;

// Registers a serializer under `name` (a class name or a short name). Built in:
// org.apache.kafka.common.serialization.{String,Integer,Long,ByteArray,Bytes}Serializer, also
// as string, integer, long, bytearray, bytes.
void RegisterSerializer(const std::string& name, SerializerFactory factory);
// The serializer registered as `name`; a NotFound error with a suggestion otherwise.
absl::StatusOr<std::unique_ptr<Serializer>> MakeSerializer(const std::string& name);
std::vector<std::string> SerializerNames();

// Serializes `data` with `s` as KafkaProducer.doSend does, turning a type mismatch into
// Kafka's "Can't convert key of class X to class Y specified in key.serializer" error.
absl::StatusOr<SerializedData> SerializeField(Serializer& s, const std::string& class_name,
                                              bool is_key, const std::string& topic,
                                              const Datum& data);

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_SERIALIZER_H_
