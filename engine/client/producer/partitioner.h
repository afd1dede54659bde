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
  // Batches queued in the accumulator for a partition (KIP-794's load statistic); unset: no
  // statistics (uniform choice).
  std::function<int32_t(int32_t partition)> queue_batches;
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  virtual int32_t Partition(const std::string& topic, const std::optional<std::string>& key,
                            int32_t num_partitions, const ClusterView& view, Rng& rng) = 0;
  // A record of `record_bytes` was appended to `tp`; `batches_full` says whether every batch
  // queued for `tp` is now full (the sticky partitioner counts bytes and switches).
  virtual void OnAppend(const TopicPartition& tp, int64_t record_bytes, bool batches_full) {}
};

// Kafka's built-in partitioner (BuiltInPartitioner, KIP-480 and KIP-794). Keyless records stick
// to one partition; after batch.size bytes went to it the partitioner switches, but only once
// every batch of that partition is full (so batches are not cut short), and at the latest after
// twice batch.size. The next partition is drawn among partitions with a leader; with
// partitioner.adaptive.partitioning.enable (the default) the draw is weighted towards
// partitions with fewer queued batches: weight = (max queue + 1) - queue. ksim reads the queue
// sizes at the moment of the switch (Kafka samples them in the sender's ready() pass).
class DefaultPartitioner final : public Partitioner {
 public:
  DefaultPartitioner(int32_t batch_size_bytes, bool ignore_keys, bool adaptive = true)
      : batch_size_bytes_(batch_size_bytes), ignore_keys_(ignore_keys), adaptive_(adaptive) {}
  int32_t Partition(const std::string& topic, const std::optional<std::string>& key,
                    int32_t num_partitions, const ClusterView& view, Rng& rng) override;
  void OnAppend(const TopicPartition& tp, int64_t record_bytes, bool batches_full) override;

  // The partition a switch picks (exposed for tests): `draw` is a non-negative random int.
  int32_t NextPartition(int32_t num_partitions, const ClusterView& view, uint32_t draw) const;

 private:
  struct Sticky {
    int32_t partition = -1;
    int64_t bytes = 0;
    bool switch_due = false;
  };
  int32_t batch_size_bytes_;
  bool ignore_keys_;
  bool adaptive_;
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
