// Everything a run produced: throughput and latency figures, counts, faults applied, check
// results, per-second time series and the trace hash. Reports (console, JSON, CSV) read it.
#ifndef KSIM_SIM_CLUSTER_RUN_RESULT_H_
#define KSIM_SIM_CLUSTER_RUN_RESULT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/check/checkers.h"
#include "sim/kernel/trace.h"
#include "sim/metrics/histogram.h"

namespace ksim {

// One second's produce latencies: a full histogram while the second is being recorded, then
// only the figures the CSV reports. (A Histogram is about 58 KiB: one per simulated second
// would make a long run's memory grow by 200 MiB an hour.)
class SecondLatency {
 public:
  void Record(int64_t ns) {
    if (open_ == nullptr) open_ = std::make_shared<Histogram>();
    open_->Record(ns);
  }
  // The second is over: keep the figures, drop the histogram.
  void Freeze() {
    if (open_ == nullptr) return;
    p50_ns_ = open_->Percentile(50);
    p99_ns_ = open_->Percentile(99);
    max_ns_ = open_->max();
    open_.reset();
  }
  int64_t p50_ns() const { return open_ ? open_->Percentile(50) : p50_ns_; }
  int64_t p99_ns() const { return open_ ? open_->Percentile(99) : p99_ns_; }
  int64_t max_ns() const { return open_ ? open_->max() : max_ns_; }

 private:
  std::shared_ptr<Histogram> open_;
  int64_t p50_ns_ = 0;
  int64_t p99_ns_ = 0;
  int64_t max_ns_ = 0;
};

struct SecondStats {
  int64_t second = 0;
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t failed = 0;
  int64_t consumed = 0;
  int64_t acked_bytes = 0;
  SecondLatency produce_latency_ns;
};

struct AppliedFault {
  TimeNs time = 0;
  std::string description;
};

// What `kafka-topics --describe` would show at one moment (an admin Metadata request).
struct PartitionDescription {
  int32_t partition = 0;
  int32_t leader = -1;  // -1: none
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline;
};
struct TopicDescription {
  std::string topic;
  std::map<std::string, std::string> configs;  // as the scenario set them
  std::vector<PartitionDescription> partitions;
};
struct ClusterDescription {
  TimeNs time = 0;
  std::string error;  // set if no broker answered
  int32_t controller = -1;
  std::vector<TopicDescription> topics;
};

// A consumer group's rebalance caused by a member crash: from the crash (the fault's time) to
// the moment the first generation formed after it had every member's assignment delivered.
struct RebalanceReport {
  std::string group;
  std::string cause;        // "crash billing-2"
  TimeNs started = 0;
  TimeNs completed = -1;    // -1: the group never formed a new generation
  int32_t generation = -1;  // the generation that completed it
};

struct RunResult {
  std::string scenario;
  std::string file;
  uint64_t seed = 0;
  TimeNs workload_ns = 0;      // how long producers ran
  TimeNs simulated_ns = 0;     // including settle and final read
  int64_t records_sent = 0;
  int64_t records_acked = 0;
  int64_t records_failed = 0;
  int64_t records_consumed = 0;
  int64_t bytes_acked = 0;
  int64_t produce_requests = 0;
  int64_t producer_retries = 0;
  Histogram produce_latency_ns;     // send() to ack, acknowledged records
  Histogram end_to_end_latency_ns;  // send() to first poll
  std::map<std::string, int64_t> errors;  // failure reason -> count
  std::vector<AppliedFault> faults;
  // Lines producer interceptors reported at close ("producer-0 counter: success count: ...").
  std::vector<std::string> interceptor_reports;
  std::vector<ClusterDescription> describes;  // ksim run --describe-at
  std::vector<CheckResult> checks;
  std::vector<SecondStats> per_second;
  std::vector<TraceEvent> timeline;  // elections, ISR changes, faults, rebalances
  std::vector<RebalanceReport> rebalances;  // consumer-crash rebalances, in crash order
  std::string trace_hash;
  uint64_t events = 0;
  bool all_checks_passed() const {
    for (const CheckResult& c : checks) {
      if (c.status == CheckStatus::kFail) return false;
    }
    return true;
  }
};

}  // namespace ksim

#endif  // KSIM_SIM_CLUSTER_RUN_RESULT_H_
