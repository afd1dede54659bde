#include "sim/cluster/workload.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <regex>

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
      if (c.threading == "worker-pool") pooled_.insert(inst.name);
    }
  }
  if (!consumers_.empty()) {
    cluster_.kernel().OnCrash([this](NodeId node) { OnNodeCrash(node); });
  }
  // The history retires records per group subscription; a retired record will not be polled
  // any more, so its send time is no longer needed for the end-to-end latency.
  std::map<std::string, std::vector<const ConsumerSpec*>> groups;
  for (const ConsumerSpec& c : sc_.consumers) groups[c.group].push_back(&c);
  for (const auto& [group, specs] : groups) {
    cluster_.history().DeclareGroup(group, [specs](const std::string& topic) {
      for (const ConsumerSpec* c : specs) {
        if (Subscribes(*c, topic)) return true;
      }
      return false;
    });
  }
  cluster_.history().set_on_retired([this](RecordId r) { e2e_send_time_.erase(r); });
}

bool Workload::Subscribes(const ConsumerSpec& c, const std::string& topic) {
  return c.pattern.empty()
             ? std::find(c.subscribe.begin(), c.subscribe.end(), topic) != c.subscribe.end()
             : std::regex_match(topic, std::regex(c.pattern));
}

bool Workload::Consumed(const std::string& topic) {
  auto [it, first] = consumed_topics_.try_emplace(topic, false);
  if (first) {
    for (const ConsumerSpec& c : sc_.consumers) it->second = it->second || Subscribes(c, topic);
  }
  return it->second;
}

bool Workload::Compacted(const std::string& topic) {
  auto [it, first] = compacted_topics_.try_emplace(topic, false);
  if (!first) return it->second;
  auto policy = sc_.broker_config.find("log.cleanup.policy");
  it->second = policy != sc_.broker_config.end() &&
               policy->second.find("compact") != std::string::npos;
  for (const TopicSpec& t : sc_.topics) {
    auto p = t.config.find("cleanup.policy");
    if (t.name == topic && p != t.config.end()) {
      it->second = p->second.find("compact") != std::string::npos;
    }
  }
  return it->second;
}

void Workload::Start(Event* ready, TimeNs stop) {
  ready_ = ready;
  for (const ConsumerInstance& inst : consumers_) {
    cluster_.kernel().Spawn(inst.node, "consumer", [this, inst] { RunConsumer(inst); });
  }
  for (const Instance& inst : producers_) {
    ++running_producers_;
    cluster_.kernel().Spawn(inst.node, "workload", [this, inst, ready, stop] {
      RunProducer(inst, ready, stop);
    });
  }
}

void Workload::OnNodeCrash(NodeId node) {
  auto it = std::find_if(consumers_.begin(), consumers_.end(),
                         [node](const ConsumerInstance& c) { return c.node == node; });
  if (it == consumers_.end()) return;
  const ConsumerInstance inst = *it;
  Kernel& kernel = cluster_.kernel();
  // The group rebalances once the coordinator notices (no LeaveGroup: session timeout).
  RebalanceReport rb;
  rb.group = inst.spec->group;
  rb.cause = "crash " + inst.name;
  rb.started = kernel.Now();
  OpenRebalance open;
  open.index = cluster_.result().rebalances.size();
  auto g = group_generation_.find(rb.group);
  if (g != group_generation_.end()) open.after_generation = g->second;
  for (const TopicSpec& t : sc_.topics) {
    if (Subscribes(*inst.spec, t.name)) open.partitions += static_cast<size_t>(t.partitions);
  }
  open_rebalances_.push_back(std::move(open));
  cluster_.result().rebalances.push_back(std::move(rb));
  // Client hosts have no boot function: a supervisor (outside the crashed host) starts a fresh
  // consumer when the host is restarted. Only the latest crash's supervisor acts.
  const uint64_t token = ++crash_count_[node];
  kernel.Spawn(kNoNode, "consumer-supervisor", [this, inst, token] {
    Kernel& k = cluster_.kernel();
    while (!k.IsUp(inst.node)) {
      if (consumers_stopping_ || crash_count_[inst.node] != token) return;
      Sleep(kMillisecond);
    }
    if (crash_count_[inst.node] != token) return;
    k.Spawn(inst.node, "consumer", [this, inst] { RunConsumer(inst); });
  });
}

void Workload::RunConsumer(const ConsumerInstance& inst) {
  Host& host = cluster_.HostOf(inst.node);
  const ConsumerSpec& spec = *inst.spec;
  ready_->Wait(kForever);
  if (spec.start_ns > host.Now()) host.SleepUntil(spec.start_ns);
  if (consumers_stopping_) return;
  ConfigMap cfg = spec.config;
  cfg["group.id"] = spec.group;
  cfg["client.id"] = inst.name;
  // A worker pool commits what its workers finished itself; the consumer's auto-commit would
  // commit what was only handed to them.
  if (spec.commit != "auto" || spec.threading == "worker-pool") cfg["enable.auto.commit"] = "false";
  auto config = Config::Make(ConsumerConfigDef(), cfg);
  KSIM_CHECK_MSG(config.ok(), "consumer config validated at load time");
  auto owned = std::make_shared<KafkaConsumer>(host, *config, cluster_.BootstrapNodes(), inst.name);
  consumer_objects_.push_back(owned);
  KafkaConsumer& consumer = *owned;
  consumer.set_observer(this);
  if (spec.threading == "worker-pool") {
    RunPooledConsumer(inst, consumer, *config);
    return;
  }
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

namespace {

// A polled record on its way to a worker, with the generation it was polled in.
struct WorkItem {
  ConsumerRecord record;
  int32_t generation = -1;
};

// A bounded FIFO channel: Push blocks while it is full (back-pressure on the polling fiber).
class BoundedChannel {
 public:
  explicit BoundedChannel(size_t capacity) : capacity_(capacity) {}
  bool Push(WorkItem w) {
    while (q_.size() >= capacity_ && !closed_) not_full_.Wait(kForever);
    if (closed_) return false;
    q_.push_back(std::move(w));
    not_empty_.NotifyOne();
    return true;
  }
  std::optional<WorkItem> Pop() {
    while (q_.empty()) {
      if (closed_) return std::nullopt;
      not_empty_.Wait(kForever);
    }
    WorkItem w = std::move(q_.front());
    q_.pop_front();
    not_full_.NotifyOne();
    return w;
  }
  void Close() {
    closed_ = true;
    not_empty_.NotifyAll();
    not_full_.NotifyAll();
  }

 private:
  size_t capacity_;
  std::deque<WorkItem> q_;
  WaitList not_empty_;
  WaitList not_full_;
  bool closed_ = false;
};

// One instance's worker pool: a channel per worker (a partition's records always go to the
// same worker, so they are processed in offset order), and per partition the offset after
// the last record a worker finished — all a commit may cover.
struct WorkerPool final : public ConsumerRebalanceListener {
  std::vector<std::unique_ptr<BoundedChannel>> channels;
  std::map<TopicPartition, int64_t> done;
  std::map<TopicPartition, int64_t> last_committed;
  int64_t in_flight = 0;
  WaitList drained;
  KafkaConsumer* consumer = nullptr;
  bool commits_processed = true;  // false for before-processing (commits positions instead)

  size_t WorkerFor(const TopicPartition& tp) const {
    uint32_t h = 2166136261u;  // FNV-1a of the topic name, then the partition
    for (char c : tp.topic) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    return (h + static_cast<uint32_t>(tp.partition)) % channels.size();
  }
  void WaitDrained() {
    while (in_flight > 0) drained.Wait(kForever);
  }
  // Finished offsets of the partitions assigned now.
  std::map<TopicPartition, int64_t> Finished() const {
    std::map<TopicPartition, int64_t> out;
    for (const TopicPartition& tp : consumer->assignment()) {
      if (auto it = done.find(tp); it != done.end()) out[tp] = it->second;
    }
    return out;
  }
  // Before partitions go: let the workers finish what they hold and commit it.
  void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) override {
    WaitDrained();
    std::map<TopicPartition, int64_t> offsets;
    for (const TopicPartition& tp : partitions) {
      auto it = done.find(tp);
      if (it == done.end()) continue;
      auto c = last_committed.find(tp);
      if (c == last_committed.end() || c->second != it->second) offsets[tp] = it->second;
    }
    if (commits_processed && !offsets.empty()) (void)consumer->CommitSync(offsets);
    for (const TopicPartition& tp : partitions) {
      done.erase(tp);
      last_committed.erase(tp);
    }
  }
  void OnPartitionsAssigned(const std::vector<TopicPartition>&) override {}
};

}  // namespace

void Workload::RunPooledConsumer(const ConsumerInstance& inst, KafkaConsumer& consumer,
                                 const Config& config) {
  Host& host = cluster_.HostOf(inst.node);
  const ConsumerSpec& spec = *inst.spec;
  auto pool = std::make_shared<WorkerPool>();
  pools_.push_back(pool);
  pool->consumer = &consumer;
  pool->commits_processed = spec.commit != "before-processing";
  const size_t capacity = static_cast<size_t>(std::max(1, config.GetInt("max.poll.records")));
  for (int32_t w = 0; w < spec.workers; ++w) {
    pool->channels.push_back(std::make_unique<BoundedChannel>(capacity));
  }
  for (int32_t w = 0; w < spec.workers; ++w) {
    host.Spawn(absl::StrCat("worker-", w + 1), [this, &host, pool, w, inst] {
      BoundedChannel& channel = *pool->channels[static_cast<size_t>(w)];
      for (;;) {
        std::optional<WorkItem> item = channel.Pop();
        if (!item) return;
        if (inst.spec->processing_ns > 0) host.Sleep(inst.spec->processing_ns);
        RecordConsumed(inst.name, inst.spec->group, item->generation, item->record);
        int64_t& next = pool->done[item->record.tp];
        next = std::max(next, item->record.offset + 1);
        if (--pool->in_flight == 0) pool->drained.NotifyAll();
      }
    });
  }
  if (spec.pattern.empty()) {
    consumer.Subscribe(spec.subscribe, pool.get());
  } else {
    consumer.SubscribePattern(spec.pattern, pool.get());
  }
  // Commits cover only what the workers finished: synchronously after each poll (sync), in
  // the background (async), or every auto.commit.interval.ms (auto).
  auto commit_finished = [&](bool sync) {
    std::map<TopicPartition, int64_t> offsets;
    for (const auto& [tp, o] : pool->Finished()) {
      auto it = pool->last_committed.find(tp);
      if (it == pool->last_committed.end() || it->second != o) offsets[tp] = o;
    }
    if (offsets.empty()) return;
    if (sync) {
      if (consumer.CommitSync(offsets).ok()) {
        for (const auto& [tp, o] : offsets) pool->last_committed[tp] = o;
      }
    } else {
      for (const auto& [tp, o] : offsets) pool->last_committed[tp] = o;
      KafkaConsumer* c = &consumer;
      host.Spawn("commit-async", [c, offsets] { (void)c->CommitSync(offsets); });
    }
  };
  const DurationNs auto_interval = config.GetInt("auto.commit.interval.ms") * kMillisecond;
  TimeNs last_auto_commit = host.Now();
  while (!consumers_stopping_) {
    auto records = consumer.Poll(100 * kMillisecond);
    if (!records.ok()) {
      host.Sleep(100 * kMillisecond);
      continue;
    }
    const int32_t generation = consumer.generation();
    // at-most-once: commit what was fetched before the workers process it.
    if (spec.commit == "before-processing" && !records->empty()) (void)consumer.CommitSync();
    for (ConsumerRecord& r : *records) {
      ++pool->in_flight;
      const size_t w = pool->WorkerFor(r.tp);
      pool->channels[w]->Push(WorkItem{std::move(r), generation});
    }
    if (spec.commit == "sync") {
      commit_finished(true);
    } else if (spec.commit == "async") {
      commit_finished(false);
    } else if (spec.commit == "auto" && host.Now() - last_auto_commit >= auto_interval) {
      last_auto_commit = host.Now();
      commit_finished(false);
    }
  }
  // Stopping: the workers finish what they hold, that is committed, and the consumer leaves.
  pool->WaitDrained();
  if (pool->commits_processed) commit_finished(true);
  for (auto& channel : pool->channels) channel->Close();
  consumer.Close();
}

void Workload::OnPoll(const std::string& consumer, const std::string& group, int32_t generation,
                      const ConsumerRecord& r) {
  // Worker-pool instances record a record when a worker has processed it.
  if (pooled_.count(consumer) > 0) return;
  RecordConsumed(consumer, group, generation, r);
}

void Workload::RecordConsumed(const std::string& consumer, const std::string& group,
                              int32_t generation, const ConsumerRecord& r) {
  const TimeNs now = cluster_.kernel().Now();
  cluster_.history().RecordPoll(
      PollEvent{now, consumer, group, generation, r.tp, r.offset, r.record_id});
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
  cluster_.history().RecordCommit(cluster_.kernel().Now(), consumer, group, generation, tp,
                                  offset, ok);
}

void Workload::OnAssignment(const std::string& consumer, const std::string& group,
                            int32_t generation, const std::vector<TopicPartition>& parts) {
  const TimeNs now = cluster_.kernel().Now();
  int32_t& highest = group_generation_.try_emplace(group, -1).first->second;
  highest = std::max(highest, generation);
  // A crash rebalance completes with the first generation formed after the crash, once its
  // members have every partition of the subscription assigned.
  for (OpenRebalance& open : open_rebalances_) {
    RebalanceReport& rb = cluster_.result().rebalances[open.index];
    if (open.done || rb.group != group || generation <= open.after_generation) continue;
    if (rb.generation < 0) rb.generation = generation;
    if (generation != rb.generation) continue;
    rb.completed = std::max(rb.completed, now);
    open.assigned.insert(parts.begin(), parts.end());
    open.done = open.assigned.size() >= open.partitions;
  }
  cluster_.history().RecordAssignment(now, group, generation, consumer, parts);
  cluster_.kernel().Trace(kNoNode, "rebalance",
                          absl::StrCat(group, " generation ", generation, ": ", consumer, " owns ",
                                       parts.size(), " partitions"));
}

// Rows exist for every second up to `second`, each labelled, including quiet ones.
void Workload::GrowPerSecond(RunResult& res, int64_t second) {
  // Only the last row can still be recorded into: the clock does not go back.
  if (!res.per_second.empty() && res.per_second.size() <= static_cast<size_t>(second)) {
    res.per_second.back().produce_latency_ns.Freeze();
  }
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
  h.RecordSend(client_id, r.record_id);
  send_time_[r.record_id] = now;
  // Records of topics no group subscribes to are never polled.
  if (!sc_.consumers.empty() && Consumed(r.topic)) e2e_send_time_[r.record_id] = now;
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
  AckEvent a;
  a.time = now;
  a.producer = client_id;
  a.record = r.record_id;
  a.acks_zero = acks_zero;
  // Keys of records in compacted topics, for the checkers (superseded records may be cleaned).
  a.compacted = Compacted(r.topic);
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
    const std::string message(result.status().message());
    ++res.records_failed;
    ++ss.failed;
    const std::string reason(message.substr(0, message.find(':')));
    ++res.errors[reason.empty() ? "unknown" : reason];
  }
  send_time_.erase(r.record_id);
  h.RecordAck(a);
}

}  // namespace ksim
