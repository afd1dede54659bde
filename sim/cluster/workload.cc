#include "sim/cluster/workload.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/config/config_def.h"
#include "engine/runtime/check.h"
#include "sim/cluster/cluster.h"

namespace ksim {

Workload::Workload(Cluster& cluster, const Scenario& sc) : cluster_(cluster), sc_(sc) {
  for (const ProducerSpec& p : sc_.producers) {
    for (int i = 1; i <= p.count; ++i) {
      Instance inst;
      inst.name = absl::StrCat(p.name, "-", i);
      inst.spec = &p;
      inst.node = cluster_.AddClientNode(inst.name);
      producers_.push_back(inst);
    }
  }
  for (const ConsumerSpec& c : sc_.consumers) {
    for (int i = 1; i <= c.count; ++i) {
      ConsumerInstance inst;
      inst.name = absl::StrCat(c.group, "-", i);
      inst.spec = &c;
      inst.node = cluster_.AddClientNode(inst.name);
      consumers_.push_back(inst);
    }
  }
}

void Workload::Start(Event* ready, TimeNs stop) {
  for (const ConsumerInstance& inst : consumers_) {
    cluster_.kernel().Spawn(inst.node, "consumer", [this, inst, ready] { RunConsumer(inst, ready); });
  }
  for (const Instance& inst : producers_) {
    ++running_producers_;
    cluster_.kernel().Spawn(inst.node, "workload", [this, inst, ready, stop] {
      RunProducer(inst, ready, stop);
    });
  }
}

void Workload::RunConsumer(const ConsumerInstance& inst, Event* ready) {
  Host& host = cluster_.HostOf(inst.node);
  const ConsumerSpec& spec = *inst.spec;
  ready->Wait(kForever);
  if (spec.start_ns > host.Now()) host.SleepUntil(spec.start_ns);
  ConfigMap cfg = spec.config;
  cfg["group.id"] = spec.group;
  cfg["client.id"] = inst.name;
  if (spec.commit != "auto") cfg["enable.auto.commit"] = "false";
  auto config = Config::Make(ConsumerConfigDef(), cfg);
  KSIM_CHECK_MSG(config.ok(), "consumer config validated at load time");
  auto owned = std::make_shared<KafkaConsumer>(host, *config, cluster_.BootstrapNodes(), inst.name);
  consumer_objects_.push_back(owned);
  KafkaConsumer& consumer = *owned;
  consumer.set_observer(this);
  if (spec.pattern.empty()) {
    consumer.Subscribe(spec.subscribe);
  } else {
    consumer.SubscribePattern(spec.pattern);
  }
  while (!consumers_stopping_) {
    auto records = consumer.Poll(100 * kMillisecond);
    if (!records.ok()) {
      host.Sleep(100 * kMillisecond);
      continue;
    }
    if (records->empty()) continue;
    // at-most-once: commit what was fetched before processing it.
    if (spec.commit == "before-processing") (void)consumer.CommitSync();
    if (spec.processing_ns > 0) {
      host.Sleep(spec.processing_ns * static_cast<int64_t>(records->size()));
    }
    if (spec.commit == "sync") {
      (void)consumer.CommitSync();
    } else if (spec.commit == "async") {
      consumer.CommitAsync(nullptr);
    }
  }
  consumer.Close();
}

void Workload::OnPoll(const std::string& consumer, const std::string& group, int32_t generation,
                      const ConsumerRecord& r) {
  const TimeNs now = cluster_.kernel().Now();
  cluster_.history().polls.push_back(
      PollOp{now, consumer, group, generation, r.tp, r.offset, r.record_id});
  RunResult& res = cluster_.result();
  ++res.records_consumed;
  const int64_t second = now / kSecond;
  GrowPerSecond(res, second);
  res.per_second[second].second = second;
  ++res.per_second[second].consumed;
  auto it = e2e_send_time_.find(r.record_id);
  if (it != e2e_send_time_.end()) {
    res.end_to_end_latency_ns.Record(now - it->second);
    e2e_send_time_.erase(it);
  }
}

void Workload::OnCommit(const std::string& consumer, const std::string& group,
                        int32_t generation, const TopicPartition& tp, int64_t offset, bool ok) {
  cluster_.history().commits.push_back(
      CommitOp{cluster_.kernel().Now(), consumer, group, generation, tp, offset, ok});
}

void Workload::OnAssignment(const std::string& consumer, const std::string& group,
                            int32_t generation, const std::vector<TopicPartition>& parts) {
  cluster_.history().assignments.push_back(
      AssignmentOp{cluster_.kernel().Now(), group, generation, consumer, parts});
  cluster_.kernel().Trace(kNoNode, "rebalance",
                          absl::StrCat(group, " generation ", generation, ": ", consumer, " owns ",
                                       parts.size(), " partitions"));
}

// Rows exist for every second up to `second`, each labelled, including quiet ones.
void Workload::GrowPerSecond(RunResult& res, int64_t second) {
  while (res.per_second.size() <= static_cast<size_t>(second)) {
    SecondStats row;
    row.second = static_cast<int64_t>(res.per_second.size());
    res.per_second.push_back(std::move(row));
  }
}

void Workload::Stop(DurationNs close_timeout) {
  stopping_ = true;
  close_timeout_ns_ = close_timeout;
}

Datum Workload::NextKey(const KeySpec& k, Datum::Kind kind, Rng& rng, int64_t* sequential) {
  if (k.kind == "none") return Datum::Null();
  if (k.kind == "fixed") {
    int64_t v = 0;
    switch (kind) {
      case Datum::Kind::kInt:
      case Datum::Kind::kLong:
        KSIM_CHECK_MSG(absl::SimpleAtoi(k.fixed, &v), "fixed numeric key validated at load time");
        return kind == Datum::Kind::kInt ? Datum::Int(static_cast<int32_t>(v)) : Datum::Long(v);
      case Datum::Kind::kBytes: return Datum::Bytes(k.fixed);
      default: return Datum::String(k.fixed);
    }
  }
  int64_t n;
  if (k.kind == "uniform") {
    n = static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(k.n)));
  } else if (k.kind == "sequential") {
    n = (*sequential)++ % k.n;
  } else {
    // Zipf by inverse transform over a continuous approximation (rank 0 most popular).
    const double u = rng.NextDouble();
    const double s = k.s;
    double rank;
    if (std::abs(s - 1.0) < 1e-9) {
      rank = std::exp(u * std::log(static_cast<double>(k.n) + 1)) - 1;
    } else {
      const double hi = std::pow(static_cast<double>(k.n) + 1, 1 - s);
      rank = std::pow(u * (hi - 1) + 1, 1 / (1 - s)) - 1;
    }
    n = std::min<int64_t>(k.n - 1, static_cast<int64_t>(rank));
  }
  // Keys follow the key.serializer's type: "key-N" as a string or bytes, N as a number.
  switch (kind) {
    case Datum::Kind::kInt: return Datum::Int(static_cast<int32_t>(n));
    case Datum::Kind::kLong: return Datum::Long(n);
    case Datum::Kind::kBytes: return Datum::Bytes(absl::StrCat("key-", n));
    default: return Datum::String(absl::StrCat("key-", n));
  }
}

namespace {

// A value of `size_bytes` synthetic bytes of the value.serializer's type (numbers are 4 or 8
// bytes whatever value-size says).
Datum MakeValue(Datum::Kind kind, int32_t size_bytes, int64_t n) {
  switch (kind) {
    case Datum::Kind::kInt: return Datum::Int(static_cast<int32_t>(n));
    case Datum::Kind::kLong: return Datum::Long(n);
    case Datum::Kind::kBytes: return Datum::SyntheticBytes(size_bytes);
    default: return Datum::SyntheticString(size_bytes);
  }
}

Datum::Kind SerializerKind(const Config& config, const char* key) {
  auto s = MakeSerializer(config.GetString(key));
  KSIM_CHECK_MSG(s.ok(), "serializers validated at load time");
  return (*s)->accepts();
}

}  // namespace

void Workload::RunProducer(const Instance& inst, Event* ready, TimeNs stop) {
  Host& host = cluster_.HostOf(inst.node);
  const ProducerSpec& spec = *inst.spec;
  ready->Wait(kForever);
  if (spec.start_ns > host.Now()) host.SleepUntil(spec.start_ns);
  const TimeNs end = spec.stop_ns ? std::min(*spec.stop_ns, stop) : stop;
  ConfigMap cfg = spec.config;
  cfg["client.id"] = inst.name;
  auto config = Config::Make(ProducerConfigDef(), cfg);
  KSIM_CHECK_MSG(config.ok(), "producer config validated at load time");
  auto owned = std::make_shared<KafkaProducer>(host, *config, cluster_.BootstrapNodes(), inst.name);
  producer_objects_.push_back(owned);
  KafkaProducer& producer = *owned;
  producer.set_observer(this);
  Rng rng = host.NewRng("workload");
  int64_t sequential = 0;
  int64_t sent = 0;
  const Datum::Kind key_kind = SerializerKind(*config, "key.serializer");
  const Datum::Kind value_kind = SerializerKind(*config, "value.serializer");
  // Records are due at a steady rate; the fiber wakes at most every 100 us and sends all
  // records due by then, so high rates do not cost one wake-up per record.
  const double interval_ns = spec.rate_per_second > 0 ? 1e9 / spec.rate_per_second : 0;
  const TimeNs start = host.Now();
  while (!stopping_ && host.Now() < end && (spec.records < 0 || sent < spec.records)) {
    const int64_t due =
        interval_ns > 0
            ? static_cast<int64_t>(static_cast<double>(host.Now() - start) / interval_ns) + 1
            : sent + 1;
    while (sent < due && !stopping_ && (spec.records < 0 || sent < spec.records)) {
      SimRecord r;
      r.topic = spec.topic;
      r.key = NextKey(spec.key, key_kind, rng, &sequential);
      r.value = MakeValue(value_kind,
                          static_cast<int32_t>(spec.value_size.min_bytes == spec.value_size.max_bytes
                                                   ? spec.value_size.min_bytes
                                                   : rng.Range(spec.value_size.min_bytes,
                                                               spec.value_size.max_bytes)),
                          sent);
      r.record_id = next_record_id_++;
      producer.Send(std::move(r), nullptr);
      ++sent;
    }
    if (interval_ns > 0) {
      const TimeNs next = start + static_cast<TimeNs>(static_cast<double>(due) * interval_ns);
      host.SleepUntil(std::max(next, host.Now() + 100 * kMicrosecond));
    }
  }
  producer.Close(close_timeout_ns_);
  for (const std::string& line : producer.interceptor_reports()) {
    cluster_.result().interceptor_reports.push_back(inst.name + " " + line);
  }
  --running_producers_;
}

void Workload::OnSend(const std::string& client_id, const SimRecord& r) {
  History& h = cluster_.history();
  const TimeNs now = cluster_.kernel().Now();
  h.sends.push_back(SendOp{now, client_id, r.record_id, r.topic});
  send_time_[r.record_id] = now;
  if (!sc_.consumers.empty()) e2e_send_time_[r.record_id] = now;
  RunResult& res = cluster_.result();
  ++res.records_sent;
  const int64_t second = now / kSecond;
  GrowPerSecond(res, second);
  res.per_second[second].second = second;
  ++res.per_second[second].sent;
}

void Workload::OnComplete(const std::string& client_id, const SimRecord& r,
                          const SendResult& result, bool acks_zero) {
  History& h = cluster_.history();
  RunResult& res = cluster_.result();
  const TimeNs now = cluster_.kernel().Now();
  AckOp a;
  a.time = now;
  a.producer = client_id;
  a.record = r.record_id;
  a.acks_zero = acks_zero;
  // Keys of records in compacted topics, for the checkers (superseded records may be cleaned).
  auto policy = sc_.broker_config.find("log.cleanup.policy");
  a.compacted = policy != sc_.broker_config.end() &&
                policy->second.find("compact") != std::string::npos;
  for (const TopicSpec& t : sc_.topics) {
    auto p = t.config.find("cleanup.policy");
    if (t.name == r.topic && p != t.config.end()) {
      a.compacted = p->second.find("compact") != std::string::npos;
    }
  }
  if (a.compacted && !r.key.is_null()) {
    a.key = absl::StrCat(static_cast<int>(r.key.kind), ":", r.key.text, ":", r.key.number, ":",
                         r.key.synthetic_bytes);
  }
  const int64_t second = now / kSecond;
  GrowPerSecond(res, second);
  SecondStats& ss = res.per_second[second];
  ss.second = second;
  if (result.ok()) {
    a.tp = result->tp;
    a.offset = result->offset;
    ++res.records_acked;
    const int64_t value_bytes = std::max(0, r.serialized_value_bytes);
    res.bytes_acked += value_bytes + std::max(0, r.serialized_key_bytes);
    ++ss.acked;
    ss.acked_bytes += value_bytes;
    auto it = send_time_.find(r.record_id);
    if (it != send_time_.end()) {
      res.produce_latency_ns.Record(now - it->second);
      ss.produce_latency_ns.Record(now - it->second);
    }
  } else {
    a.error = Error::kUnknownServerError;
    a.error_message = std::string(result.status().message());
    ++res.records_failed;
    ++ss.failed;
    std::string reason = a.error_message.substr(0, a.error_message.find(':'));
    ++res.errors[reason.empty() ? "unknown" : reason];
  }
  send_time_.erase(r.record_id);
  h.acks.push_back(std::move(a));
}

}  // namespace ksim
