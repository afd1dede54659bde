#include "engine/client/producer/interceptor.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "engine/config/config_def.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

// The study notes' first example: "<now in ms>," in front of the value.
class TimeStampPrependerInterceptor final : public ProducerInterceptor {
 public:
  explicit TimeStampPrependerInterceptor(Runtime& rt) : rt_(rt) {}
  absl::StatusOr<SimRecord> OnSend(SimRecord record) override {
    if (record.value.kind != Datum::Kind::kString) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ClassCastException: class ", record.value.JavaClass(),
          " cannot be cast to class java.lang.String"));
    }
    record.value.text = absl::StrCat(rt_.Now() / kMillisecond, ",", record.value.text);
    return record;
  }
  void OnAcknowledgement(const RecordMetadata&, const absl::Status&) override {}

 private:
  Runtime& rt_;
};

// The study notes' second example: counts outcomes and reports them at close.
class CounterInterceptor final : public ProducerInterceptor {
 public:
  absl::StatusOr<SimRecord> OnSend(SimRecord record) override { return record; }
  void OnAcknowledgement(const RecordMetadata&, const absl::Status& status) override {
    if (status.ok()) {
      ++success_count_;
    } else {
      ++fail_count_;
    }
  }
  std::string Report() const override {
    return absl::StrCat("success count: ", success_count_, ", fail count: ", fail_count_);
  }

 private:
  int64_t success_count_ = 0;
  int64_t fail_count_ = 0;
};

std::map<std::string, InterceptorFactory>& Registry() {
  static auto* r = [] {
    auto* m = new std::map<std::string, InterceptorFactory>();
    InterceptorFactory ts = [](Runtime& rt) {
      return std::make_unique<TimeStampPrependerInterceptor>(rt);
    };
    InterceptorFactory counter = [](Runtime&) { return std::make_unique<CounterInterceptor>(); };
    (*m)["ksim.examples.TimeStampPrependerInterceptor"] = ts;
    (*m)["timestamp-prepender"] = ts;
    (*m)["ksim.examples.CounterInterceptor"] = counter;
    (*m)["counter"] = counter;
    return m;
  }();
  return *r;
}

}  // namespace

void RegisterProducerInterceptor(const std::string& name, InterceptorFactory factory) {
  Registry()[name] = std::move(factory);
}

std::vector<std::string> ProducerInterceptorNames() {
  std::vector<std::string> names;
  for (const auto& [name, f] : Registry()) names.push_back(name);
  return names;
}

absl::Status ValidateProducerInterceptors(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (Registry().count(n) != 0) continue;
    auto s = ClosestMatch(n, ProducerInterceptorNames());
    return absl::NotFoundError(absl::StrCat(
        "unknown producer interceptor '", n, "'",
        s ? absl::StrCat("; did you mean '", *s, "'?") : "",
        " (shipped: ksim.examples.TimeStampPrependerInterceptor, ksim.examples.CounterInterceptor)"));
  }
  return absl::OkStatus();
}

ProducerInterceptors::ProducerInterceptors(Runtime& rt, const std::vector<std::string>& names)
    : rt_(rt) {
  for (const std::string& n : names) {
    auto it = Registry().find(n);
    KSIM_CHECK_MSG(it != Registry().end(), "interceptor validated at load time: " + n);
    chain_.emplace_back(n, it->second(rt));
  }
}

SimRecord ProducerInterceptors::OnSend(SimRecord record) {
  for (auto& [name, interceptor] : chain_) {
    const uint64_t id = record.record_id;
    auto out = interceptor->OnSend(record);
    if (!out.ok()) {
      // Kafka logs the exception and carries on with the record as the previous one left it.
      rt_.Trace("interceptor-error",
                absl::StrCat(name, " onSend: ", std::string(out.status().message())));
      continue;
    }
    record = std::move(*out);
    record.record_id = id;  // the simulator's identity of the record is not the app's to change
  }
  return record;
}

void ProducerInterceptors::OnAcknowledgement(const RecordMetadata& metadata,
                                             const absl::Status& status) {
  for (auto& [name, interceptor] : chain_) interceptor->OnAcknowledgement(metadata, status);
}

void ProducerInterceptors::OnSendError(const SimRecord& record, int32_t partition,
                                       const absl::Status& status) {
  RecordMetadata md;
  md.tp = TopicPartition{record.topic, partition};
  OnAcknowledgement(md, status);
}

void ProducerInterceptors::Close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [name, interceptor] : chain_) interceptor->Close();
}

std::vector<std::string> ProducerInterceptors::Reports() const {
  std::vector<std::string> out;
  for (const auto& [name, interceptor] : chain_) {
    std::string r = interceptor->Report();
    if (!r.empty()) out.push_back(name + ": " + r);
  }
  return out;
}

}  // namespace ksim
