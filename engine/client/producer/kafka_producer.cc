#include "engine/client/producer/kafka_producer.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/client/producer/murmur2.h"
#include "engine/client/producer/partitioner.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {

KafkaProducer::KafkaProducer(Runtime& rt, Config config, std::vector<NodeId> bootstrap,
                             std::string client_id)
    : rt_(rt),
      config_(std::move(config)),
      client_id_(std::move(client_id)),
      metadata_(rt, std::move(bootstrap), client_id_,
                config_.GetLong("metadata.max.age.ms") * kMillisecond,
                config_.GetLong("retry.backoff.ms") * kMillisecond),
      accumulator_(RecordAccumulator::Options{
          config_.GetInt("batch.size"), config_.GetLong("linger.ms") * kMillisecond,
          config_.GetLong("buffer.memory"), config_.GetLong("retry.backoff.ms") * kMillisecond,
          config_.GetInt("delivery.timeout.ms") * kMillisecond}),
      key_serializer_class_(config_.GetString("key.serializer")),
      value_serializer_class_(config_.GetString("value.serializer")),
      interceptors_(rt, config_.GetList("interceptor.classes")),
      rng_(rt.NewRng("producer/" + client_id_)) {
  auto ks = MakeSerializer(key_serializer_class_);
  auto vs = MakeSerializer(value_serializer_class_);
  KSIM_CHECK_MSG(ks.ok() && vs.ok(), "serializers are validated with the configuration");
  key_serializer_ = std::move(*ks);
  value_serializer_ = std::move(*vs);
  const std::string acks = config_.GetString("acks");
  acks_ = acks == "all" || acks == "-1" ? -1 : static_cast<int16_t>(acks == "1" ? 1 : 0);
  idempotent_ = config_.GetBool("enable.idempotence");
  max_in_flight_ = config_.GetInt("max.in.flight.requests.per.connection");
  retries_max_ = config_.GetInt("retries");
  request_timeout_ns_ = config_.GetInt("request.timeout.ms") * kMillisecond;
  delivery_timeout_ns_ = config_.GetInt("delivery.timeout.ms") * kMillisecond;
  max_block_ns_ = config_.GetLong("max.block.ms") * kMillisecond;
  max_request_size_ = config_.GetInt("max.request.size");
  codec_ = CodecFromName(config_.GetString("compression.type"));
  partitioner_ = MakePartitionerFromConfig(config_);
  alive_ = std::make_shared<bool>(true);
  auto alive = alive_;
  rt_.Spawn("producer-sender/" + client_id_, [this, alive] { SenderLoop(alive); });
}

KafkaProducer::~KafkaProducer() {
  *alive_ = false;
  wakeup_.Set();
}

void KafkaProducer::set_partitioner(std::unique_ptr<Partitioner> p) { partitioner_ = std::move(p); }

Future<SendResult> KafkaProducer::Send(SimRecord record) {
  Promise<SendResult> promise;
  Future<SendResult> f = promise.GetFuture();
  Send(std::move(record), [promise](const SendResult& r) mutable { promise.Set(r); });
  return f;
}

void KafkaProducer::Send(SimRecord record, SendCallback callback) {
  ++records_sent_;
  if (observer_ != nullptr) observer_->OnSend(client_id_, record);
  // Kafka: interceptors see the record first, then doSend() serializes and partitions it.
  if (!interceptors_.empty()) record = interceptors_.OnSend(std::move(record));
  int32_t partition = -1;
  auto fail = [&](const absl::Status& s) {
    ++records_failed_;
    interceptors_.OnSendError(record, partition, s);
    if (observer_ != nullptr) observer_->OnComplete(client_id_, record, s, acks_ == 0);
    if (callback) callback(s);
  };
  if (closing_) {
    fail(absl::FailedPreconditionError("Cannot perform operation after producer has been closed"));
    return;
  }
  const TimeNs deadline = DeadlineAfter(rt_.Now(), max_block_ns_);
  auto partitions = metadata_.WaitForTopic(record.topic, deadline);
  if (!partitions.ok()) {
    fail(partitions.status());
    return;
  }
  auto key = SerializeField(*key_serializer_, key_serializer_class_, true, record.topic, record.key);
  if (!key.ok()) {
    fail(key.status());
    return;
  }
  auto value = SerializeField(*value_serializer_, value_serializer_class_, false, record.topic,
                              record.value);
  if (!value.ok()) {
    fail(value.status());
    return;
  }
  record.serialized_key_bytes = key->size();
  record.serialized_value_bytes = value->size();
  // The application thread's CPU for send(): serialising, partitioning and appending. Charged
  // in quanta so a fast producer does not sleep once per record.
  send_cpu_debt_ns_ += kSendOverheadNs + key_serializer_->CpuNs(*key) + value_serializer_->CpuNs(*value);
  if (send_cpu_debt_ns_ >= kSendCpuQuantumNs) {
    const DurationNs debt = send_cpu_debt_ns_;
    send_cpu_debt_ns_ = 0;
    rt_.Compute(debt);
  }
  // Keys are hashed, so they are materialised in full.
  std::optional<std::string> key_bytes;
  if (!key->is_null) key_bytes = key->bytes + std::string(static_cast<size_t>(key->synthetic_bytes), '\0');
  if (record.partition.has_value()) {
    partition = *record.partition;
  } else {
    partition = partitioner_->Partition(record.topic, key_bytes, *partitions,
                                        ViewOf(record.topic, *partitions), rng_);
  }
  if (record.timestamp_ms < 0) record.timestamp_ms = rt_.Now() / kMillisecond;
  PendingRecord pr;
  pr.record_id = record.record_id;
  pr.key_size_bytes = record.serialized_key_bytes;
  pr.key_hash = key_bytes ? Murmur2(*key_bytes) : 0;
  pr.value_size_bytes = std::max(0, record.serialized_value_bytes);
  pr.timestamp_ms = record.timestamp_ms;
  pr.size_bytes = EstimateRecordBytes(pr.key_size_bytes, pr.value_size_bytes);
  if (pr.size_bytes + kBatchHeaderBytes > max_request_size_) {
    fail(absl::InvalidArgumentError(absl::StrCat(
        "The message is ", pr.size_bytes, " bytes when serialized which is larger than ",
        max_request_size_, ", which is the value of the max.request.size configuration.")));
    return;
  }
  TopicPartition tp{record.topic, partition};
  const int64_t record_bytes = pr.size_bytes;
  // The record rides in its batch until it completes (FinishRecord), as Kafka's thunks do.
  pr.record = std::move(record);
  pr.callback = std::move(callback);
  auto full = accumulator_.Append(tp, pr, rt_.Now(), deadline);
  if (!full.ok()) {
    record = std::move(pr.record);  // Append leaves the record on error
    callback = std::move(pr.callback);
    fail(full.status());
    return;
  }
  if (partitioner_ != nullptr) {
    partitioner_->OnAppend(tp, record_bytes, accumulator_.AllBatchesFull(tp));
  }
  if (*full || accumulator_.buffered_bytes() > 0) wakeup_.Set();
}

const ClusterView& KafkaProducer::ViewOf(const std::string& topic, int32_t num_partitions) {
  CachedView& c = views_[topic];
  if (c.metadata_version != metadata_.version() || c.view.num_partitions != num_partitions) {
    c.metadata_version = metadata_.version();
    c.view.num_partitions = num_partitions;
    c.view.available = metadata_.AvailablePartitions(topic);
    c.view.queue_batches = [this, topic](int32_t p) {
      return accumulator_.QueuedBatches(TopicPartition{topic, p});
    };
  }
  return c.view;
}

bool KafkaProducer::EnsureProducerId() {
  if (!idempotent_ || producer_id_ >= 0) return true;
  metadata_.MaybeRefresh(DeadlineAfter(rt_.Now(), request_timeout_ns_));
  for (const auto& [id, b] : metadata_.brokers()) {
    auto& ns = nodes_[b.node];
    if (ns.client == nullptr) ns.client = std::make_unique<RpcClient>(rt_, b.node, client_id_);
    auto resp = ns.client->Call(std::make_shared<InitProducerIdRequest>(),
                                DeadlineAfter(rt_.Now(), request_timeout_ns_));
    if (!resp.ok() || (*resp)->api() != ApiKey::kInitProducerId) continue;
    const auto& r = static_cast<const InitProducerIdResponse&>(**resp);
    if (r.error != Error::kNone) continue;
    producer_id_ = r.producer_id;
    producer_epoch_ = r.producer_epoch;
    rt_.Trace("producer-id", absl::StrCat(client_id_, " pid=", producer_id_));
    return true;
  }
  metadata_.RequestUpdate();
  return false;
}

void KafkaProducer::SenderLoop(std::shared_ptr<bool> alive) {
  while (*alive && !(closed_ && incomplete_batches_ == 0 && !accumulator_.HasUnsent())) {
    if (!EnsureProducerId()) {
      rt_.Sleep(config_.GetLong("retry.backoff.ms") * kMillisecond);
      continue;
    }
    metadata_.MaybeRefresh(DeadlineAfter(rt_.Now(), request_timeout_ns_));
    if (!*alive) return;
    for (auto& b : accumulator_.Expire(rt_.Now())) {
      FailBatch(*b, absl::DeadlineExceededError(absl::StrCat(
                        "Expiring ", b->records.size(), " record(s) for ", b->tp.ToString(), ":",
                        (rt_.Now() - b->created) / kMillisecond,
                        " ms has passed since batch creation")));
      accumulator_.Deallocate(*b);
    }
    TimeNs next = kForever;
    SendReady(rt_.Now(), &next);
    wakeup_ = Event();
    // Re-check at least every retry backoff so metadata waits and expiry make progress.
    TimeNs cap = DeadlineAfter(rt_.Now(), config_.GetLong("retry.backoff.ms") * kMillisecond);
    if (accumulator_.HasUnsent() || incomplete_batches_ > 0) next = std::min(next, cap);
    wakeup_.Wait(next);
  }
}

void KafkaProducer::SendReady(TimeNs now, TimeNs* next_wakeup) {
  std::vector<TopicPartition> ready = accumulator_.Ready(now, next_wakeup);
  std::map<NodeId, std::vector<std::unique_ptr<ProducerBatch>>> by_node;
  std::map<NodeId, int64_t> bytes;
  for (const TopicPartition& tp : ready) {
    BrokerId leader = metadata_.Leader(tp);
    NodeId node = metadata_.NodeOf(leader);
    if (leader == kNoBroker || node == kNoNode) {
      metadata_.RequestUpdate();
      continue;
    }
    auto& ns = nodes_[node];
    if (ns.in_flight >= max_in_flight_) continue;
    // Without idempotence, in-flight = 1 keeps order by sending one batch per partition at a
    // time; with idempotence the broker's sequence checks keep it.
    if (max_in_flight_ == 1 && in_flight_per_partition_[tp] > 0) continue;
    if (bytes[node] > 0 && bytes[node] >= max_request_size_) continue;
    if (idempotent_ && !PrepareSequences(tp)) continue;
    auto batch = accumulator_.Drain(tp, now);
    if (idempotent_ && batch->base_sequence < 0) {
      batch->producer_id = producer_id_;
      batch->producer_epoch = producer_epoch_;
      batch->base_sequence = next_sequence_[tp];
      next_sequence_[tp] += static_cast<int32_t>(batch->records.size());
    }
    bytes[node] += batch->size_bytes;
    by_node[node].push_back(std::move(batch));
  }
  for (auto& [node, batches] : by_node) SendRequest(node, std::move(batches));
}

bool KafkaProducer::PrepareSequences(const TopicPartition& tp) {
  auto [pe, fresh] = partition_epoch_.try_emplace(tp, producer_epoch_);
  const bool bump = epoch_bump_partitions_.count(tp) > 0;
  if (!bump && (fresh || pe->second == producer_epoch_)) return true;
  // Sequences change only when nothing of the partition is in flight (their answers decide
  // what the broker has).
  if (in_flight_per_partition_[tp] > 0) return false;
  // A partition on an older epoch because another one bumped it keeps that epoch for its
  // retries (the broker may have written them: a new epoch would write them twice); fresh
  // batches move to the new epoch once the retries are through (Kafka's
  // hasStaleProducerIdAndEpoch waits for in-flight batches the same way).
  if (!bump && accumulator_.HeadIsSequenced(tp)) return true;
  if (bump) {
    // Kafka's idempotent producer bumps its epoch locally (a new producer id only at the
    // epoch's maximum, not modelled) and numbers the partition's batches from 0 again.
    KSIM_CHECK(producer_epoch_ < std::numeric_limits<int16_t>::max());
    ++producer_epoch_;
    epoch_bump_partitions_.erase(tp);
    rt_.Trace("producer-epoch-bump",
              absl::StrCat(client_id_, " ", tp.ToString(), " epoch=", producer_epoch_));
  }
  // A partition still on an older epoch (another partition bumped it) restarts at 0 too.
  pe->second = producer_epoch_;
  next_sequence_[tp] = 0;
  last_acked_sequence_.erase(tp);
  accumulator_.ResetSequences(tp);
  return true;
}

BatchPtr KafkaProducer::ToRecordBatch(const ProducerBatch& b) const {
  RecordBatchBuilder builder;
  builder.set_producer(b.producer_id, b.producer_epoch, b.base_sequence);
  builder.set_compression(static_cast<int8_t>(codec_));
  for (const PendingRecord& r : b.records) {
    builder.Add(r.record_id, r.key_hash, r.key_size_bytes, r.value_size_bytes, r.timestamp_ms);
  }
  return builder.Build(CostOf(codec_).ratio);
}

void KafkaProducer::SendRequest(NodeId node, std::vector<std::unique_ptr<ProducerBatch>> batches) {
  auto& ns = nodes_[node];
  if (ns.client == nullptr) ns.client = std::make_unique<RpcClient>(rt_, node, client_id_);
  auto req = std::make_shared<ProduceRequest>();
  req->acks = acks_;
  req->timeout_ms = static_cast<int32_t>(request_timeout_ns_ / kMillisecond);
  int64_t raw_bytes = 0;
  for (auto& b : batches) {
    req->batches[b->tp] = ToRecordBatch(*b);
    raw_bytes += b->size_bytes;
    ++in_flight_per_partition_[b->tp];
  }
  // Client CPU: compressing the batches (serialisation of synthetic payloads is free).
  rt_.Compute(static_cast<DurationNs>(CostOf(codec_).compress_ns_per_byte * raw_bytes));
  ++ns.in_flight;
  ++requests_sent_;
  incomplete_batches_ += static_cast<int64_t>(batches.size());
  auto alive = alive_;
  auto shared = std::make_shared<std::vector<std::unique_ptr<ProducerBatch>>>(std::move(batches));
  rt_.Spawn("produce-request", [this, alive, node, req, shared] {
    RpcClient* client = nodes_[node].client.get();
    if (acks_ == 0) {
      const uint64_t broken_before = client->broken_connections();
      absl::Status s = client->Send(req, DeadlineAfter(rt_.Now(), request_timeout_ns_));
      if (!*alive) return;
      if (client->broken_connections() != broken_before) metadata_.RequestUpdate();
      for (auto& b : *shared) {
        HandleResult(std::move(b), s.ok() ? Error::kNone : Error::kNetworkException, -1,
                     std::string(s.message()));
      }
    } else {
      auto resp = client->Call(req, DeadlineAfter(rt_.Now(), request_timeout_ns_));
      if (!*alive) return;
      for (auto& b : *shared) {
        if (!resp.ok()) {
          HandleResult(std::move(b),
                       absl::IsDeadlineExceeded(resp.status()) ? Error::kRequestTimedOut
                                                               : Error::kNetworkException,
                       -1, std::string(resp.status().message()));
          continue;
        }
        const auto& r = static_cast<const ProduceResponse&>(**resp);
        auto it = r.partitions.find(b->tp);
        if (it == r.partitions.end()) {
          HandleResult(std::move(b), Error::kUnknownServerError, -1, "no partition in response");
        } else {
          HandleResult(std::move(b), it->second.error, it->second.base_offset,
                       it->second.error_message);
        }
      }
    }
    --nodes_[node].in_flight;
    wakeup_.Set();
  });
}

void KafkaProducer::HandleResult(std::unique_ptr<ProducerBatch> batch, Error error,
                                 int64_t base_offset, const std::string& message) {
  --incomplete_batches_;
  --in_flight_per_partition_[batch->tp];
  const TimeNs now = rt_.Now();
  if (error == Error::kNone || error == Error::kDuplicateSequenceNumber) {
    auto pe = partition_epoch_.find(batch->tp);
    if (idempotent_ && batch->base_sequence >= 0 && pe != partition_epoch_.end() &&
        batch->producer_epoch == pe->second) {
      int32_t& last = last_acked_sequence_.try_emplace(batch->tp, -1).first->second;
      last = std::max(last, batch->base_sequence + static_cast<int32_t>(batch->records.size()) - 1);
    }
    Complete(*batch, SendResult(RecordMetadata{batch->tp, base_offset, -1}), base_offset);
    accumulator_.Deallocate(*batch);
    completions_.NotifyAll();
    return;
  }
  bool retriable = IsRetriable(error) || error == Error::kNetworkException;
  // With idempotence, an out-of-order sequence while an earlier batch of the partition is
  // being retried is expected: retry it after that batch.
  if (idempotent_ && error == Error::kOutOfOrderSequenceNumber) {
    retriable = true;
    // The batch right after the last acknowledged one was refused: the broker's log has a gap
    // it will never fill (its leader lost data). KIP-360: bump the epoch and restart this
    // partition's sequences at 0, then retry (Kafka's TransactionManager.canRetry).
    auto last = last_acked_sequence_.find(batch->tp);
    const int32_t last_acked = last == last_acked_sequence_.end() ? -1 : last->second;
    auto pe = partition_epoch_.find(batch->tp);
    const bool current = pe != partition_epoch_.end() && batch->producer_epoch == pe->second;
    if (current && batch->base_sequence == last_acked + 1) epoch_bump_partitions_.insert(batch->tp);
  }
  if (InvalidatesMetadata(error) || error == Error::kNetworkException ||
      error == Error::kRequestTimedOut) {
    metadata_.RequestUpdate();
  }
  if (retriable && batch->attempts <= retries_max_ && now - batch->created < delivery_timeout_ns_ &&
      !closed_) {
    ++retries_;
    ++incomplete_batches_;
    --incomplete_batches_;
    rt_.Trace("produce-retry", absl::StrCat(client_id_, " ", batch->tp.ToString(), " ",
                                            ErrorName(error), " attempt ", batch->attempts));
    accumulator_.Reenqueue(std::move(batch), now);
    wakeup_.Set();
    return;
  }
  FailBatch(*batch, absl::UnavailableError(absl::StrCat(
                        ErrorName(error), message.empty() ? "" : ": ", message)));
  accumulator_.Deallocate(*batch);
  completions_.NotifyAll();
}

void KafkaProducer::Complete(ProducerBatch& batch, const SendResult& first, int64_t base_offset) {
  for (size_t i = 0; i < batch.records.size(); ++i) {
    PendingRecord& r = batch.records[i];
    RecordMetadata md{batch.tp, base_offset < 0 ? -1 : base_offset + static_cast<int64_t>(i),
                      r.timestamp_ms};
    FinishRecord(r, batch.tp.partition, SendResult(std::move(md)));
  }
}

void KafkaProducer::FailBatch(ProducerBatch& batch, const absl::Status& status) {
  const SendResult result(status);
  for (PendingRecord& r : batch.records) FinishRecord(r, batch.tp.partition, result);
}

void KafkaProducer::FinishRecord(PendingRecord& r, int32_t partition, const SendResult& result) {
  if (!interceptors_.empty()) {
    if (result.ok()) {
      interceptors_.OnAcknowledgement(*result, absl::OkStatus());
    } else {
      interceptors_.OnSendError(r.record, partition, result.status());
    }
  }
  if (observer_ != nullptr) observer_->OnComplete(client_id_, r.record, result, acks_ == 0);
  if (result.ok()) {
    ++records_acked_;
  } else {
    ++records_failed_;
  }
  if (r.callback) r.callback(result);
}

void KafkaProducer::Flush() {
  accumulator_.BeginFlush();
  wakeup_.Set();
  while (accumulator_.HasUnsent() || incomplete_batches_ > 0) completions_.Wait(kForever);
  accumulator_.EndFlush();
}

void KafkaProducer::Close(DurationNs timeout) {
  closing_ = true;
  const TimeNs deadline = DeadlineAfter(rt_.Now(), timeout);
  accumulator_.BeginFlush();
  wakeup_.Set();
  while ((accumulator_.HasUnsent() || incomplete_batches_ > 0) && rt_.Now() < deadline) {
    completions_.Wait(deadline);
  }
  for (auto& b : accumulator_.AbortAll()) {
    FailBatch(*b, absl::AbortedError("Producer is closed forcefully."));
    accumulator_.Deallocate(*b);
  }
  accumulator_.EndFlush();
  closed_ = true;
  interceptors_.Close();
  wakeup_.Set();
}

}  // namespace ksim
