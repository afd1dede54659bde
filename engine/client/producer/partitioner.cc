#include "engine/client/producer/partitioner.h"

#include "absl/strings/str_cat.h"
#include "engine/client/producer/murmur2.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

std::map<std::string, PartitionerFactory>& Registry() {
  static auto* r = new std::map<std::string, PartitionerFactory>{
      {"org.apache.kafka.clients.producer.RoundRobinPartitioner",
       [](const Config&) { return std::make_unique<RoundRobinPartitioner>(); }},
      {"round-robin", [](const Config&) { return std::make_unique<RoundRobinPartitioner>(); }},
  };
  return *r;
}

}  // namespace

int32_t DefaultPartitioner::Partition(const std::string& topic,
                                      const std::optional<std::string>& key,
                                      int32_t num_partitions, const ClusterView& view, Rng& rng) {
  KSIM_CHECK(num_partitions > 0);
  if (key.has_value() && !ignore_keys_) return KeyedPartition(*key, num_partitions);
  Sticky& s = sticky_[topic];
  if (s.partition < 0 || s.partition >= num_partitions || s.bytes >= batch_size_bytes_) {
    // Switch: a random available partition (any partition if none is known available),
    // different from the current one when there is a choice.
    const std::vector<int32_t>& pool = view.available;
    int32_t next;
    if (pool.empty()) {
      next = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(num_partitions)));
    } else if (pool.size() == 1) {
      next = pool[0];
    } else {
      do {
        next = pool[rng.Uniform(pool.size())];
      } while (next == s.partition);
    }
    s.partition = next;
    s.bytes = 0;
  }
  return s.partition;
}

void DefaultPartitioner::OnAppend(const TopicPartition& tp, int64_t record_bytes) {
  auto it = sticky_.find(tp.topic);
  if (it != sticky_.end() && it->second.partition == tp.partition) it->second.bytes += record_bytes;
}

int32_t RoundRobinPartitioner::Partition(const std::string& topic,
                                         const std::optional<std::string>& key,
                                         int32_t num_partitions, const ClusterView& view,
                                         Rng& rng) {
  const int32_t next = counters_[topic]++;
  if (!view.available.empty()) {
    return view.available[static_cast<size_t>(ToPositive(next)) % view.available.size()];
  }
  return ToPositive(next) % num_partitions;
}

void RegisterPartitioner(const std::string& name, PartitionerFactory factory) {
  Registry()[name] = std::move(factory);
}

absl::StatusOr<std::unique_ptr<Partitioner>> MakePartitioner(const Config& c) {
  const std::string name = c.GetString("partitioner.class");
  if (name.empty() || name == "org.apache.kafka.clients.producer.internals.DefaultPartitioner" ||
      name == "default") {
    return std::unique_ptr<Partitioner>(std::make_unique<DefaultPartitioner>(
        c.GetInt("batch.size"), c.GetBool("partitioner.ignore.keys")));
  }
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    std::vector<std::string> names;
    for (const auto& [n, f] : Registry()) names.push_back(n);
    auto s = ClosestMatch(name, names);
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value '", name, "' for config 'partitioner.class': no such partitioner",
        s ? absl::StrCat("; did you mean '", *s, "'?") : ""));
  }
  return it->second(c);
}

std::unique_ptr<Partitioner> MakePartitionerFromConfig(const Config& c) {
  auto p = MakePartitioner(c);
  KSIM_CHECK_MSG(p.ok(), std::string(p.status().message()));
  return std::move(*p);
}

}  // namespace ksim
