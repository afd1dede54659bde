// The producer client (Kafka's KafkaProducer): send() runs interceptors, waits for topic
// metadata, picks the partition, and appends to the RecordAccumulator; a sender fiber drains
// sendable batches into Produce requests to each partition's leader, at most
// max.in.flight.requests.per.connection per broker, retrying retriable errors with backoff
// until delivery.timeout.ms. With enable.idempotence (the default) it obtains a producer id
// and numbers batches per partition so brokers drop duplicates of retries and keep order.
#ifndef KSIM_ENGINE_CLIENT_PRODUCER_KAFKA_PRODUCER_H_
#define KSIM_ENGINE_CLIENT_PRODUCER_KAFKA_PRODUCER_H_

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/client/client_metadata.h"
#include "engine/log/compression.h"
#include "engine/client/producer/interceptor.h"
#include "engine/client/producer/partitioner.h"
#include "engine/client/producer/record.h"
#include "engine/client/producer/serializer.h"
#include "engine/client/producer/record_accumulator.h"
#include "engine/config/config_def.h"
#include "engine/protocol/messages.h"
#include "engine/rpc/rpc_client.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

// Hooks for the simulator's history recorder.
class ProducerObserver {
 public:
  virtual ~ProducerObserver() = default;
  virtual void OnSend(const std::string& client_id, const SimRecord& r) = 0;
  virtual void OnComplete(const std::string& client_id, const SimRecord& r,
                          const SendResult& result, bool acks_zero) = 0;
};

class KafkaProducer {
 public:
  // `config` is validated against ProducerConfigDef().
  KafkaProducer(Runtime& rt, Config config, std::vector<NodeId> bootstrap, std::string client_id);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  void set_observer(ProducerObserver* o) { observer_ = o; }
  // Replaces the partitioner chosen by partitioner.class (tests).
  void set_partitioner(std::unique_ptr<Partitioner> p);

  // Asynchronous send; the future completes with the record's metadata or error. Blocks only
  // for metadata and buffer space (max.block.ms).
  Future<SendResult> Send(SimRecord record);
  void Send(SimRecord record, SendCallback callback);
  // Makes every buffered record sendable now and blocks until all have completed.
  void Flush();
  // Stops accepting records, sends what is buffered for up to `timeout`, then fails the rest.
  // Close(0) fails everything buffered immediately.
  void Close(DurationNs timeout);

  const std::string& client_id() const { return client_id_; }
  int64_t records_sent() const { return records_sent_; }
  int64_t records_acked() const { return records_acked_; }
  int64_t records_failed() const { return records_failed_; }
  int64_t requests_sent() const { return requests_sent_; }
  int64_t retries() const { return retries_; }
  // What the interceptors of interceptor.classes report (e.g. the counter's totals).
  std::vector<std::string> interceptor_reports() const { return interceptors_.Reports(); }

 private:
  struct NodeState {
    std::unique_ptr<RpcClient> client;
    int in_flight = 0;
  };
  void SenderLoop(std::shared_ptr<bool> alive);
  void SendReady(TimeNs now, TimeNs* next_wakeup);
  void SendRequest(NodeId node, std::vector<std::unique_ptr<ProducerBatch>> batches);
  void HandleResult(std::unique_ptr<ProducerBatch> batch, Error error, int64_t base_offset,
                    const std::string& message);
  void Complete(ProducerBatch& batch, const SendResult& first_result, int64_t base_offset);
  void FailBatch(ProducerBatch& batch, const absl::Status& status);
  // One record's completion: interceptors, observer, counters, then the application's callback.
  void FinishRecord(PendingRecord& r, int32_t partition, const SendResult& result);
  bool EnsureProducerId();
  // Idempotence: brings the partition's sequences up to the producer's epoch (bumping it
  // if the partition asked for it); false while its in-flight batches must come back first.
  bool PrepareSequences(const TopicPartition& tp);
  BatchPtr ToRecordBatch(const ProducerBatch& b) const;
  // What the partitioner sees of `topic`, rebuilt only when the metadata changed (send() is
  // per record; the view is per metadata update).
  const ClusterView& ViewOf(const std::string& topic, int32_t num_partitions);

  Runtime& rt_;
  Config config_;
  std::string client_id_;
  ClientMetadata metadata_;
  RecordAccumulator accumulator_;
  std::unique_ptr<Partitioner> partitioner_;
  std::string key_serializer_class_;
  std::string value_serializer_class_;
  std::unique_ptr<Serializer> key_serializer_;
  std::unique_ptr<Serializer> value_serializer_;
  ProducerInterceptors interceptors_;
  ProducerObserver* observer_ = nullptr;
  Rng rng_;
  int16_t acks_;
  bool idempotent_;
  int32_t max_in_flight_;
  int32_t retries_max_;
  DurationNs request_timeout_ns_;
  DurationNs delivery_timeout_ns_;
  DurationNs max_block_ns_;
  int32_t max_request_size_;
  Codec codec_;
  std::map<NodeId, NodeState> nodes_;
  std::map<TopicPartition, int32_t> next_sequence_;
  // Idempotence bookkeeping per partition (Kafka's TxnPartitionEntry): the epoch the
  // partition's sequences belong to and the last sequence the broker acknowledged.
  std::map<TopicPartition, int16_t> partition_epoch_;
  std::map<TopicPartition, int32_t> last_acked_sequence_;
  // KIP-360: partitions whose sequences restart at 0 under a bumped epoch once their
  // in-flight batches are back (a gap the broker cannot fill, e.g. a leader that lost data).
  std::set<TopicPartition> epoch_bump_partitions_;
  std::map<TopicPartition, int32_t> in_flight_per_partition_;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  Event wakeup_;
  WaitList completions_;
  int64_t incomplete_batches_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::shared_ptr<bool> alive_;
  int64_t records_sent_ = 0;
  int64_t records_acked_ = 0;
  int64_t records_failed_ = 0;
  int64_t requests_sent_ = 0;
  int64_t retries_ = 0;
  // Client CPU of send() (docs/COST_MODEL.md): a fixed cost per record (ProducerRecord,
  // partitioner, accumulator append, callback) besides the serializers', charged in quanta.
  static constexpr DurationNs kSendOverheadNs = 600;
  static constexpr DurationNs kSendCpuQuantumNs = 50 * kMicrosecond;
  DurationNs send_cpu_debt_ns_ = 0;
  struct CachedView {
    uint64_t metadata_version = ~uint64_t{0};
    ClusterView view;
  };
  std::map<std::string, CachedView> views_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_PRODUCER_KAFKA_PRODUCER_H_
