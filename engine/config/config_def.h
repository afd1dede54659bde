// Kafka configuration definitions, like Kafka's ConfigDef: every key a component accepts, with
// its type, Kafka's default and validation. Scenario files give configs by Kafka's own names;
// unknown keys and bad values are errors with a "did you mean" suggestion, never ignored.
#ifndef KSIM_ENGINE_CONFIG_CONFIG_DEF_H_
#define KSIM_ENGINE_CONFIG_CONFIG_DEF_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ksim {

enum class ConfigType { kBool, kInt, kLong, kDouble, kString, kList, kEnum };

struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::string default_value;  // as Kafka prints it; "" for null
  int64_t min = INT64_MIN;    // numeric range, inclusive
  int64_t max = INT64_MAX;
  std::vector<std::string> allowed;  // kEnum (and kList items when non-empty)
  std::string doc;                   // one line
};

// A set of keys for one component (producer, consumer, broker, topic).
class ConfigDef {
 public:
  ConfigDef& Define(ConfigKey key);
  const ConfigKey* Find(const std::string& name) const;
  const std::map<std::string, ConfigKey>& keys() const { return keys_; }
  // The closest known key to a misspelt one, if any is close enough.
  std::optional<std::string> Suggest(const std::string& name) const;
  // Checks one key and value; the error message names the key and says what is expected.
  absl::Status Validate(const std::string& name, const std::string& value) const;

 private:
  std::map<std::string, ConfigKey> keys_;
};

// Kafka's producer (ProducerConfig), consumer (ConsumerConfig), broker (KafkaConfig) and
// topic (TopicConfig) keys that ksim models, with Kafka 3.x defaults.
const ConfigDef& ProducerConfigDef();
const ConfigDef& ConsumerConfigDef();
const ConfigDef& BrokerConfigDef();
const ConfigDef& TopicConfigDef();

// A validated key/value map with typed getters that fall back to the definition's default.
class Config {
 public:
  Config(const ConfigDef& def, std::map<std::string, std::string> values)
      : def_(&def), values_(std::move(values)) {}
  // Validates every entry; the first bad one is returned.
  static absl::StatusOr<Config> Make(const ConfigDef& def,
                                     std::map<std::string, std::string> values);

  bool GetBool(const std::string& name) const;
  int64_t GetLong(const std::string& name) const;
  int32_t GetInt(const std::string& name) const { return static_cast<int32_t>(GetLong(name)); }
  double GetDouble(const std::string& name) const;
  std::string GetString(const std::string& name) const;
  std::vector<std::string> GetList(const std::string& name) const;
  bool IsSet(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::string Raw(const std::string& name) const;
  const ConfigDef* def_;
  std::map<std::string, std::string> values_;
};

// Edit distance, for suggestions.
int EditDistance(const std::string& a, const std::string& b);
// The closest candidate within a distance that scales with the length, if any.
std::optional<std::string> ClosestMatch(const std::string& word,
                                        const std::vector<std::string>& candidates);

}  // namespace ksim

#endif  // KSIM_ENGINE_CONFIG_CONFIG_DEF_H_
