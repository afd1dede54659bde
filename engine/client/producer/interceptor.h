// Producer interceptors (Kafka's ProducerInterceptor and interceptor.classes): a chain that sees
// every record in send() before serialization and partitioning, and every outcome before the
// application's callback. As in Kafka, an interceptor's error is reported and skipped: the
// record from the previous interceptor goes on, and a failing onAcknowledgement changes nothing.
//
// Shipped examples (the two from the study notes), registered by name:
//   ksim.examples.TimeStampPrependerInterceptor (timestamp-prepender): prepends
//     "<current time in ms>," to the value (string values);
//   ksim.examples.CounterInterceptor (counter): counts successful and failed sends and reports
//     "success count: N, fail count: M" when the producer closes.
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_INTERCEPTOR_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_INTERCEPTOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/client/producer/record.h"
#include "engine/runtime/runtime.h"

namespace ksim {

class ProducerInterceptor {
 public:
  virtual ~ProducerInterceptor() = default;
  // Runs in send() before the key and value are serialized and the partition is chosen. Should
  // not change topic or partition. An error leaves the record as it was.
  virtual absl::StatusOr<SimRecord> OnSend(SimRecord record) = 0;
  // The record was acknowledged (status ok; metadata has its offset) or failed (metadata has
  // the topic and, if one was chosen, the partition). Runs before the application's callback.
  virtual void OnAcknowledgement(const RecordMetadata& metadata, const absl::Status& status) = 0;
  virtual void Close() {}
  // A line for the run report, if the interceptor has something to say (e.g. counts).
  virtual std::string Report() const { return ""; }
};

using InterceptorFactory = std::function<std::unique_ptr<ProducerInterceptor>(Runtime& rt)>;

void RegisterProducerInterceptor(const std::string& name, InterceptorFactory factory);
std::vector<std::string> ProducerInterceptorNames();
// Checks every name of interceptor.classes; a NotFound error with a suggestion otherwise.
absl::Status ValidateProducerInterceptors(const std::vector<std::string>& names);

// The chain configured by interceptor.classes, in order.
class ProducerInterceptors {
 public:
  // REQUIRES: ValidateProducerInterceptors(names) is ok.
  ProducerInterceptors(Runtime& rt, const std::vector<std::string>& names);
  bool empty() const { return chain_.empty(); }
  SimRecord OnSend(SimRecord record);
  void OnAcknowledgement(const RecordMetadata& metadata, const absl::Status& status);
  // A failure in send() before the record reached the accumulator.
  void OnSendError(const SimRecord& record, int32_t partition, const absl::Status& status);
  void Close();
  // Non-empty reports, prefixed with the interceptor's name.
  std::vector<std::string> Reports() const;

 private:
  Runtime& rt_;
  std::vector<std::pair<std::string, std::unique_ptr<ProducerInterceptor>>> chain_;
  bool closed_ = false;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_INTERCEPTOR_H_
