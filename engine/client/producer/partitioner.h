// Producer partitioners, as in Kafka's Java client:
// - the built-in default: keyed records by murmur2 (unless partitioner.ignore.keys); keyless
//   records stick to one partition until batch.size bytes went to it, then switch (KIP-480 /
//   KIP-794), choosing among partitions whose leader is available;
// - RoundRobinPartitioner (org.apache.kafka.clients.producer.RoundRobinPartitioner);
// - custom partitioners registered by name and chosen with partitioner.class.
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_PARTITIONER_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_PARTITIONER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/config_def.h"
#include "engine/protocol/api.h"
#include "engine/runtime/rng.h"

namespace ksim {

struct ClusterView {
  int32_t num_partitions = 0;
  std::vector<int32_t> available;  // partitions with a known leader
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  virtual int32_t Partition(const std::string& topic, const std::optional<std::string>& key,
                            int32_t num_partitions, const ClusterView& view, Rng& rng) = 0;
  // A record of `record_bytes` was appended to `tp` (the sticky partitioner counts bytes).
  virtual void OnAppend(const TopicPartition& tp, int64_t record_bytes) {}
};

class DefaultPartitioner final : public Partitioner {
 public:
  DefaultPartitioner(int32_t batch_size_bytes, bool ignore_keys)
      : batch_size_bytes_(batch_size_bytes), ignore_keys_(ignore_keys) {}
  int32_t Partition(const std::string& topic, const std::optional<std::string>& key,
                    int32_t num_partitions, const ClusterView& view, Rng& rng) override;
  void OnAppend(const TopicPartition& tp, int64_t record_bytes) override;

 private:
  struct Sticky {
    int32_t partition = -1;
    int64_t bytes = 0;
  };
  int32_t batch_size_bytes_;
  bool ignore_keys_;
  std::map<std::string, Sticky> sticky_;
};

class RoundRobinPartitioner final : public Partitioner {
 public:
  int32_t Partition(const std::string& topic, const std::optional<std::string>& key,
                    int32_t num_partitions, const ClusterView& view, Rng& rng) override;

 private:
  std::map<std::string, int32_t> counters_;
};

using PartitionerFactory = std::function<std::unique_ptr<Partitioner>(const Config&)>;
// Registers a custom partitioner under `name` (a class name or a short name).
void RegisterPartitioner(const std::string& name, PartitionerFactory factory);
// The partitioner partitioner.class names (empty: the built-in default).
absl::StatusOr<std::unique_ptr<Partitioner>> MakePartitioner(const Config& producer_config);
// REQUIRES: partitioner.class was validated by MakePartitioner at load time.
std::unique_ptr<Partitioner> MakePartitionerFromConfig(const Config& producer_config);

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_PARTITIONER_H_
