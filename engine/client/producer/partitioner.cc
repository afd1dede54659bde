#include "engine/client/producer/partitioner.h"

#include <algorithm>

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
  if (s.partition < 0 || s.partition >= num_partitions || s.switch_due) {
    s.partition = NextPartition(num_partitions, view, static_cast<uint32_t>(rng.Next() >> 33));
    s.bytes = 0;
    s.switch_due = false;
  }
  return s.partition;
}

int32_t DefaultPartitioner::NextPartition(int32_t num_partitions, const ClusterView& view,
                                          uint32_t draw) const {
  const std::vector<int32_t>& avail = view.available;
  if (adaptive_ && view.queue_batches && num_partitions >= 2 && !avail.empty()) {
    // Cumulative frequency table over the available partitions, weights inverted queue sizes.
    std::vector<int64_t> cft(avail.size());
    int64_t max_plus_1 = 0;
    bool all_equal = true;
    for (size_t i = 0; i < avail.size(); ++i) {
      cft[i] = view.queue_batches(avail[i]);
      if (i > 0 && cft[i] != cft[0]) all_equal = false;
      max_plus_1 = std::max(max_plus_1, cft[i]);
    }
    ++max_plus_1;
    // Equal queues over all partitions: plain uniform choice, as Kafka does.
    if (!all_equal || static_cast<int32_t>(avail.size()) != num_partitions) {
      int64_t running = 0;
      for (int64_t& c : cft) {
        running += max_plus_1 - c;
        c = running;
      }
      const int64_t r = static_cast<int64_t>(draw) % cft.back();
      // The first entry strictly greater than r.
      const size_t idx = static_cast<size_t>(std::upper_bound(cft.begin(), cft.end(), r) - cft.begin());
      KSIM_CHECK(idx < avail.size());
      return avail[idx];
    }
  }
  if (!avail.empty()) return avail[draw % avail.size()];
  return static_cast<int32_t>(draw % static_cast<uint32_t>(num_partitions));
}

void DefaultPartitioner::OnAppend(const TopicPartition& tp, int64_t record_bytes,
                                  bool batches_full) {
  auto it = sticky_.find(tp.topic);
  if (it == sticky_.end() || it->second.partition != tp.partition) return;
  Sticky& s = it->second;
  s.bytes += record_bytes;
  if ((s.bytes >= batch_size_bytes_ && batches_full) || s.bytes >= 2 * int64_t{batch_size_bytes_}) {
    s.switch_due = true;
  }
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
        c.GetInt("batch.size"), c.GetBool("partitioner.ignore.keys"),
        c.GetBool("partitioner.adaptive.partitioning.enable")));
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
