// Kafka's data-plane and control-plane requests as in-memory messages: Produce, Fetch,
// ListOffsets, Metadata, OffsetsForLeaderEpoch, InitProducerId, and the controller's
// LeaderAndIsr / UpdateMetadata / StopReplica / AlterPartition / CreateTopics / DeleteTopics /
// CreatePartitions. Field names follow Kafka's JSON message definitions.
#ifndef KSIM_ENGINE_PROTOCOL_MESSAGES_H_
#define KSIM_ENGINE_PROTOCOL_MESSAGES_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/log/leader_epoch_cache.h"
#include "engine/protocol/api.h"

namespace ksim {

class RecordBatch;  // engine/log/record_batch.h
using BatchPtr = std::shared_ptr<const RecordBatch>;
// Wire size of a batch (defined with RecordBatch).
int64_t BatchSizeBytes(const RecordBatch& batch);

inline constexpr int32_t kNoLeaderEpoch = -1;
inline constexpr int64_t kNoOffset = -1;
inline constexpr int32_t kConsumerReplicaId = -1;
// ListOffsets special timestamps.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;

// --- Produce (API 0) ---------------------------------------------------------------------------

struct ProduceRequest : Request {
  ProduceRequest() : Request(ApiKey::kProduce) {}
  int64_t SizeBytes() const override;
  int16_t acks = -1;  // 0, 1, -1 (all)
  int32_t timeout_ms = 30000;
  std::map<TopicPartition, BatchPtr> batches;  // one batch per partition per request
};

struct ProducePartitionResponse {
  Error error = Error::kNone;
  int64_t base_offset = kNoOffset;
  int64_t log_append_time_ms = -1;
  int64_t log_start_offset = kNoOffset;
  std::string error_message;
};

struct ProduceResponse : Response {
  ProduceResponse() : Response(ApiKey::kProduce) {}
  int64_t SizeBytes() const override {
    return kResponseHeaderBytes + 40 * static_cast<int64_t>(partitions.size());
  }
  std::map<TopicPartition, ProducePartitionResponse> partitions;
};

// --- Fetch (API 1) -----------------------------------------------------------------------------

struct FetchPartition {
  int32_t current_leader_epoch = kNoLeaderEpoch;  // KIP-320 fencing
  int64_t fetch_offset = 0;
  int32_t last_fetched_epoch = kNoLeaderEpoch;  // followers: KIP-595-style divergence check
  int64_t log_start_offset = kNoOffset;
  int32_t partition_max_bytes = 1048576;
};

struct FetchRequest : Request {
  FetchRequest() : Request(ApiKey::kFetch) {}
  int64_t SizeBytes() const override {
    return kRequestHeaderBytes + 32 * static_cast<int64_t>(partitions.size());
  }
  int32_t replica_id = kConsumerReplicaId;  // a broker id for follower fetches
  int32_t max_wait_ms = 500;
  int32_t min_bytes = 1;
  int32_t max_bytes = 52428800;
  std::map<TopicPartition, FetchPartition> partitions;
};

struct FetchPartitionResponse {
  Error error = Error::kNone;
  int64_t high_watermark = kNoOffset;
  int64_t log_start_offset = kNoOffset;
  int64_t log_end_offset = kNoOffset;  // ksim extra, for reports
  std::optional<EpochEndOffset> diverging_epoch;
  std::vector<BatchPtr> batches;
  int64_t records_size_bytes = 0;
};

struct FetchResponse : Response {
  FetchResponse() : Response(ApiKey::kFetch) {}
  int64_t SizeBytes() const override;
  std::map<TopicPartition, FetchPartitionResponse> partitions;
};

// --- ListOffsets (API 2) -----------------------------------------------------------------------

struct ListOffsetsRequest : Request {
  ListOffsetsRequest() : Request(ApiKey::kListOffsets) {}
  int32_t replica_id = kConsumerReplicaId;
  std::map<TopicPartition, int64_t> timestamps;  // kLatestTimestamp / kEarliestTimestamp / ms
};

struct ListOffsetsPartitionResponse {
  Error error = Error::kNone;
  int64_t timestamp = -1;
  int64_t offset = kNoOffset;
  int32_t leader_epoch = kNoLeaderEpoch;
};

struct ListOffsetsResponse : Response {
  ListOffsetsResponse() : Response(ApiKey::kListOffsets) {}
  std::map<TopicPartition, ListOffsetsPartitionResponse> partitions;
};

// --- Metadata (API 3) --------------------------------------------------------------------------

struct BrokerInfo {
  BrokerId id = kNoBroker;
  NodeId node = kNoNode;
  std::string host;
  std::string rack;
};

struct PartitionMetadata {
  Error error = Error::kNone;
  int32_t partition = 0;
  BrokerId leader = kNoBroker;
  int32_t leader_epoch = kNoLeaderEpoch;
  std::vector<BrokerId> replicas;
  std::vector<BrokerId> isr;
  std::vector<BrokerId> offline_replicas;
};

struct TopicMetadata {
  Error error = Error::kNone;
  std::string name;
  bool is_internal = false;
  std::vector<PartitionMetadata> partitions;  // by partition index
};

struct MetadataRequest : Request {
  MetadataRequest() : Request(ApiKey::kMetadata) {}
  std::optional<std::vector<std::string>> topics;  // nullopt: all topics
  bool allow_auto_topic_creation = true;
};

struct MetadataResponse : Response {
  MetadataResponse() : Response(ApiKey::kMetadata) {}
  int64_t SizeBytes() const override;
  std::vector<BrokerInfo> brokers;
  BrokerId controller_id = kNoBroker;
  std::vector<TopicMetadata> topics;
};

// --- OffsetsForLeaderEpoch (API 23) ------------------------------------------------------------

struct OffsetsForLeaderEpochRequest : Request {
  OffsetsForLeaderEpochRequest() : Request(ApiKey::kOffsetForLeaderEpoch) {}
  int32_t replica_id = kConsumerReplicaId;
  struct Partition {
    int32_t current_leader_epoch = kNoLeaderEpoch;
    int32_t leader_epoch = kNoLeaderEpoch;
  };
  std::map<TopicPartition, Partition> partitions;
};

struct OffsetsForLeaderEpochResponse : Response {
  OffsetsForLeaderEpochResponse() : Response(ApiKey::kOffsetForLeaderEpoch) {}
  struct Partition {
    Error error = Error::kNone;
    int32_t leader_epoch = kNoLeaderEpoch;
    int64_t end_offset = kNoOffset;
  };
  std::map<TopicPartition, Partition> partitions;
};

// --- InitProducerId (API 22) -------------------------------------------------------------------

struct InitProducerIdRequest : Request {
  InitProducerIdRequest() : Request(ApiKey::kInitProducerId) {}
  int32_t transaction_timeout_ms = 60000;
};

struct InitProducerIdResponse : Response {
  InitProducerIdResponse() : Response(ApiKey::kInitProducerId) {}
  Error error = Error::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// --- Controller to brokers ---------------------------------------------------------------------

// The replicated state of one partition, as the controller stores it in the metadata service.
struct PartitionState {
  BrokerId leader = kNoBroker;
  int32_t leader_epoch = 0;
  std::vector<BrokerId> isr;
  std::vector<BrokerId> replicas;  // assignment order; the first is the preferred leader
  int32_t partition_epoch = 0;     // bumped on every change (ZooKeeper znode version)
  int32_t controller_epoch = 0;
};

struct LeaderAndIsrRequest : Request {
  LeaderAndIsrRequest() : Request(ApiKey::kLeaderAndIsr) {}
  int64_t SizeBytes() const override {
    return kRequestHeaderBytes + 48 * static_cast<int64_t>(partitions.size());
  }
  BrokerId controller_id = kNoBroker;
  int32_t controller_epoch = 0;
  std::map<TopicPartition, PartitionState> partitions;
  std::map<std::string, std::map<std::string, std::string>> topic_configs;  // per topic
  std::vector<BrokerInfo> live_leaders;
};

struct LeaderAndIsrResponse : Response {
  LeaderAndIsrResponse() : Response(ApiKey::kLeaderAndIsr) {}
  Error error = Error::kNone;
  std::map<TopicPartition, Error> partitions;
};

struct UpdateMetadataRequest : Request {
  UpdateMetadataRequest() : Request(ApiKey::kUpdateMetadata) {}
  int64_t SizeBytes() const override {
    return kRequestHeaderBytes + 48 * static_cast<int64_t>(partitions.size()) +
           32 * static_cast<int64_t>(live_brokers.size());
  }
  BrokerId controller_id = kNoBroker;
  int32_t controller_epoch = 0;
  std::vector<BrokerInfo> live_brokers;
  std::map<TopicPartition, PartitionState> partitions;
  std::vector<std::string> deleted_topics;
  std::map<std::string, bool> internal_topics;
};

struct UpdateMetadataResponse : Response {
  UpdateMetadataResponse() : Response(ApiKey::kUpdateMetadata) {}
  Error error = Error::kNone;
};

struct StopReplicaRequest : Request {
  StopReplicaRequest() : Request(ApiKey::kStopReplica) {}
  BrokerId controller_id = kNoBroker;
  int32_t controller_epoch = 0;
  std::vector<TopicPartition> partitions;
  bool delete_partitions = false;
};

struct StopReplicaResponse : Response {
  StopReplicaResponse() : Response(ApiKey::kStopReplica) {}
  Error error = Error::kNone;
};

// Leader to controller: ISR shrink or expand (KIP-497).
struct AlterPartitionRequest : Request {
  AlterPartitionRequest() : Request(ApiKey::kAlterPartition) {}
  BrokerId broker_id = kNoBroker;
  struct Partition {
    int32_t leader_epoch = 0;
    std::vector<BrokerId> new_isr;
    int32_t partition_epoch = 0;
  };
  std::map<TopicPartition, Partition> partitions;
};

struct AlterPartitionResponse : Response {
  AlterPartitionResponse() : Response(ApiKey::kAlterPartition) {}
  Error error = Error::kNone;
  struct Partition {
    Error error = Error::kNone;
    PartitionState state;
  };
  std::map<TopicPartition, Partition> partitions;
};

// --- Admin -------------------------------------------------------------------------------------

struct CreatableTopic {
  std::string name;
  int32_t num_partitions = -1;       // -1: num.partitions
  int16_t replication_factor = -1;   // -1: default.replication.factor
  std::map<int32_t, std::vector<BrokerId>> assignments;  // explicit placement, optional
  std::map<std::string, std::string> configs;
};

struct CreateTopicsRequest : Request {
  CreateTopicsRequest() : Request(ApiKey::kCreateTopics) {}
  std::vector<CreatableTopic> topics;
  int32_t timeout_ms = 30000;
};

struct CreateTopicsResponse : Response {
  CreateTopicsResponse() : Response(ApiKey::kCreateTopics) {}
  struct Result {
    Error error = Error::kNone;
    std::string error_message;
  };
  std::map<std::string, Result> topics;
};

struct DeleteTopicsRequest : Request {
  DeleteTopicsRequest() : Request(ApiKey::kDeleteTopics) {}
  std::vector<std::string> topics;
};

struct DeleteTopicsResponse : Response {
  DeleteTopicsResponse() : Response(ApiKey::kDeleteTopics) {}
  std::map<std::string, Error> topics;
};

struct CreatePartitionsRequest : Request {
  CreatePartitionsRequest() : Request(ApiKey::kCreatePartitions) {}
  std::map<std::string, int32_t> new_total_counts;
};

struct CreatePartitionsResponse : Response {
  CreatePartitionsResponse() : Response(ApiKey::kCreatePartitions) {}
  std::map<std::string, CreateTopicsResponse::Result> topics;
};

// A response carrying only an error, for a request the receiver cannot serve at all (for
// example an admin request sent to a broker that is not the controller). Its api() is the
// request's.
struct ErrorResponse : Response {
  explicit ErrorResponse(ApiKey api) : Response(api) {}
  Error error = Error::kNone;
};

// The typed response for `request` filled with `error` where the API has one, else an
// ErrorResponse. Callers check `IsErrorResponse` before casting.
std::shared_ptr<Response> MakeErrorResponse(const Request& request, Error error);
bool IsErrorResponse(const Response& r);

}  // namespace ksim

#endif  // KSIM_ENGINE_PROTOCOL_MESSAGES_H_
