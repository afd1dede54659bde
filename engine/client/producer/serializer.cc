#include "engine/client/producer/serializer.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "engine/config/config_def.h"

namespace ksim {

const char* Datum::JavaClass() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kString: return "java.lang.String";
    case Kind::kInt: return "java.lang.Integer";
    case Kind::kLong: return "java.lang.Long";
    case Kind::kBytes: return "[B";
  }
  return "?";
}

namespace {

// Client CPU of the built-in serializers (sources in docs/COST_MODEL.md). byte[] and Bytes
// hand the application's array over without a copy: free.
constexpr int64_t kNsPerByteScale = 1000;
constexpr int64_t kStringSerializeNsPerByte = 500;  // 0.5 ns/byte (x1000): ~2 GB/s UTF-8 encode
constexpr DurationNs kNumberSerializeNs = 5;        // a 4- or 8-byte big-endian array

SerializedData BigEndian(int64_t v, int bytes) {
  SerializedData out;
  out.is_null = false;
  out.bytes.resize(static_cast<size_t>(bytes));
  for (int i = bytes - 1; i >= 0; --i) {
    out.bytes[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(v) & 0xff);
    v = static_cast<int64_t>(static_cast<uint64_t>(v) >> 8);
  }
  return out;
}

// StringSerializer: the UTF-8 bytes of the string (strings are held as UTF-8 already).
class StringSerializer final : public Serializer {
 public:
  absl::StatusOr<SerializedData> Serialize(const std::string&, const Datum& d) override {
    if (d.is_null()) return SerializedData{};
    return SerializedData{false, d.text, d.synthetic_bytes};
  }
  Datum::Kind accepts() const override { return Datum::Kind::kString; }
  // String.getBytes(UTF_8): an encoding pass over the string.
  DurationNs CpuNs(const SerializedData& out) const override {
    return out.is_null ? 0 : kStringSerializeNsPerByte * out.size() / kNsPerByteScale;
  }
};

// IntegerSerializer: 4 bytes, big-endian.
class IntegerSerializer final : public Serializer {
 public:
  absl::StatusOr<SerializedData> Serialize(const std::string&, const Datum& d) override {
    if (d.is_null()) return SerializedData{};
    return BigEndian(d.number, 4);
  }
  Datum::Kind accepts() const override { return Datum::Kind::kInt; }
  DurationNs CpuNs(const SerializedData& out) const override {
    return out.is_null ? 0 : kNumberSerializeNs;
  }
};

// LongSerializer: 8 bytes, big-endian.
class LongSerializer final : public Serializer {
 public:
  absl::StatusOr<SerializedData> Serialize(const std::string&, const Datum& d) override {
    if (d.is_null()) return SerializedData{};
    return BigEndian(d.number, 8);
  }
  DurationNs CpuNs(const SerializedData& out) const override {
    return out.is_null ? 0 : kNumberSerializeNs;
  }
  Datum::Kind accepts() const override { return Datum::Kind::kLong; }
};

// ByteArraySerializer and BytesSerializer: the bytes as they are.
class ByteArraySerializer final : public Serializer {
 public:
  absl::StatusOr<SerializedData> Serialize(const std::string&, const Datum& d) override {
    if (d.is_null()) return SerializedData{};
    return SerializedData{false, d.text, d.synthetic_bytes};
  }
  Datum::Kind accepts() const override { return Datum::Kind::kBytes; }
};

std::map<std::string, SerializerFactory>& Registry() {
  static auto* r = [] {
    auto* m = new std::map<std::string, SerializerFactory>();
    auto add = [&](std::initializer_list<const char*> names, SerializerFactory f) {
      for (const char* n : names) (*m)[n] = f;
    };
    add({"string", "org.apache.kafka.common.serialization.StringSerializer"},
        [] { return std::make_unique<StringSerializer>(); });
    add({"integer", "org.apache.kafka.common.serialization.IntegerSerializer"},
        [] { return std::make_unique<IntegerSerializer>(); });
    add({"long", "org.apache.kafka.common.serialization.LongSerializer"},
        [] { return std::make_unique<LongSerializer>(); });
    add({"bytearray", "org.apache.kafka.common.serialization.ByteArraySerializer", "bytes",
         "org.apache.kafka.common.serialization.BytesSerializer"},
        [] { return std::make_unique<ByteArraySerializer>(); });
    return m;
  }();
  return *r;
}

}  // namespace

void RegisterSerializer(const std::string& name, SerializerFactory factory) {
  Registry()[name] = std::move(factory);
}

std::vector<std::string> SerializerNames() {
  std::vector<std::string> names;
  for (const auto& [name, f] : Registry()) names.push_back(name);
  return names;
}

absl::StatusOr<std::unique_ptr<Serializer>> MakeSerializer(const std::string& name) {
  auto it = Registry().find(name);
  if (it != Registry().end()) return it->second();
  auto s = ClosestMatch(name, SerializerNames());
  return absl::NotFoundError(absl::StrCat(
      "unknown serializer '", name, "'", s ? absl::StrCat("; did you mean '", *s, "'?") : "",
      " (String, Integer, Long, ByteArray and Bytes serializers are built in)"));
}

absl::StatusOr<SerializedData> SerializeField(Serializer& s, const std::string& class_name,
                                              bool is_key, const std::string& topic,
                                              const Datum& data) {
  if (!data.is_null() && data.kind != s.accepts()) {
    const char* field = is_key ? "key" : "value";
    return absl::InvalidArgumentError(absl::StrCat(
        "SerializationException: Can't convert ", field, " of class ", data.JavaClass(),
        " to class ", class_name, " specified in ", field, ".serializer"));
  }
  return s.Serialize(topic, data);
}

}  // namespace ksim
