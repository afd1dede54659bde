// A scenario: the cluster, the workload, the faults and the checks of one simulation run, as
// loaded from a YAML file. Loading validates everything: an unknown key or a bad value is an
// error naming file:line:column and the key path, with a "did you mean" suggestion.
#ifndef KSIM_SIM_SCENARIO_SCENARIO_H_
#define KSIM_SIM_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

using ConfigMap = std::map<std::string, std::string>;

// Machine figures of one broker host. Named profiles live in hardware.h.
struct HardwareProfile {
  std::string name;
  int32_t cpu_cores = 8;
  int64_t nic_bits_per_second = 1'000'000'000;
  int64_t disk_read_bytes_per_second = 150'000'000;
  int64_t disk_write_bytes_per_second = 150'000'000;
  DurationNs disk_read_latency_ns = 8 * kMillisecond;
  DurationNs disk_write_latency_ns = 8 * kMillisecond;
  DurationNs fsync_latency_ns = 8 * kMillisecond;
  int64_t page_cache_bytes = 32LL << 30;
  int64_t memory_bytes_per_second = 10'000'000'000;
};

struct NetworkSpec {
  DurationNs latency_ns = 500 * kMicrosecond;  // one way
  DurationNs jitter_ns = 100 * kMicrosecond;
  std::string distribution = "uniform";  // constant | uniform | normal | exponential
};

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  ConfigMap config;
};

// How producers choose keys: none (keyless), uniform(n), sequential(n), zipf(n,s), fixed(k).
struct KeySpec {
  std::string kind = "none";
  int64_t n = 0;
  double s = 1.0;
  std::string fixed;
};

struct SizeSpec {
  int64_t min_bytes = 100;
  int64_t max_bytes = 100;  // == min: constant
};

struct ProducerSpec {
  std::string name;
  int32_t count = 1;
  std::string topic;
  double rate_per_second = 1000;  // per producer; 0 = as fast as the producer accepts
  KeySpec key;
  SizeSpec value_size;
  int64_t records = -1;  // per producer; -1 = until the end of the workload
  TimeNs start_ns = 0;
  std::optional<TimeNs> stop_ns;
  ConfigMap config;
};

struct ConsumerSpec {
  std::string group;
  int32_t count = 1;
  std::vector<std::string> subscribe;
  std::string pattern;  // subscribe(pattern) when set
  DurationNs processing_ns = 0;  // per record
  // auto (enable.auto.commit), sync / async after processing (at-least-once),
  // before-processing (at-most-once).
  std::string commit = "sync";
  // consumer-per-fiber: each instance polls and processes in one fiber. worker-pool: each
  // instance's consumer polls and hands records to `workers` worker fibers through bounded
  // channels (a partition's records always go to the same worker, keeping their order);
  // processing time applies in the workers and commits cover only finished records.
  std::string threading = "consumer-per-fiber";
  int32_t workers = 4;                           // worker-pool size
  TimeNs start_ns = 0;
  ConfigMap config;
};

struct FaultSpec {
  int line = 0;
  TimeNs at_ns = 0;                  // at, or from
  std::optional<TimeNs> until_ns;    // to (range faults heal then)
  std::string kind;                  // crash restart partition one-way isolate heal jitter
                                     // slow-disk nic-throttle
  std::vector<std::string> nodes;    // targets (crash/restart/isolate/slow-disk/nic-throttle);
                                     // crash/restart take brokers and consumer instances
  std::vector<std::string> side_a;   // partition/jitter: between
  std::vector<std::string> side_b;   // partition/jitter: and
  std::string mode = "process";      // crash: process | power
  DurationNs extra_latency_ns = 0;   // jitter
  DurationNs extra_jitter_ns = 0;
  double factor = 1.0;               // slow-disk (slower by), nic-throttle (bandwidth factor)
  std::string topic;                 // add-partitions: the topic
  int32_t count = 0;                 // add-partitions: the new total partition count
};

struct NemesisSpec {
  bool enabled = false;
  std::vector<std::string> kinds;  // crash, power, partition, isolate, jitter, slow-disk, ...,
                                   // consumer-crash
  // Consumer instance names (group-1, ...) consumer-crash picks from; filled by the loader.
  std::vector<std::string> consumer_instances;
  DurationNs interval_ns = 10 * kSecond;  // mean time between faults
  DurationNs fault_duration_ns = 5 * kSecond;
  TimeNs start_ns = 0;
  std::optional<TimeNs> stop_ns;  // default: duration - settle
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  TimeNs duration_ns = 60 * kSecond;
  // After the workload stops, faults are healed and the run continues this long before the
  // final read, so liveness can be judged.
  DurationNs settle_ns = 30 * kSecond;
  int32_t brokers = 3;
  HardwareProfile hardware;
  std::vector<std::string> racks;  // optional, one per broker
  ConfigMap broker_config;
  NetworkSpec network;
  std::vector<TopicSpec> topics;
  std::vector<ProducerSpec> producers;
  std::vector<ConsumerSpec> consumers;
  std::vector<FaultSpec> faults;
  NemesisSpec nemesis;
  std::vector<std::string> expect;  // check names
  // Kafka keys the file sets that ksim accepts but does not model yet ("file:line: key ..."),
  // printed as notes by run and validate so a setting never silently does nothing.
  std::vector<std::string> notes;
};

// Loads and validates a scenario file. `overrides` are --set PATH=VALUE pairs applied to the
// YAML tree before validation (PATH like producers.app.config.linger.ms or cluster.brokers).
absl::StatusOr<Scenario> LoadScenario(const std::string& path,
                                      const std::vector<std::string>& overrides = {});
// Same, from text (tests); `file` names it in errors.
absl::StatusOr<Scenario> ParseScenario(const std::string& text, const std::string& file,
                                       const std::vector<std::string>& overrides = {});

// Value parsers shared with the command line. Errors say what was expected.
absl::StatusOr<DurationNs> ParseDuration(const std::string& s);  // 500ms, 1.5s, 2m, 20us
absl::StatusOr<int64_t> ParseSize(const std::string& s);         // 100, 16KiB, 1MB, 1GiB
absl::StatusOr<double> ParseRate(const std::string& s);          // 10000/s, 5/ms, 100

}  // namespace ksim

#endif  // KSIM_SIM_SCENARIO_SCENARIO_H_
