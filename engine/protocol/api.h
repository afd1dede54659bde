// Kafka API requests and responses as in-memory messages. They travel over simulated
// connections as Payloads with a declared wire size; nothing is serialised.
#ifndef KSIM_ENGINE_PROTOCOL_API_H_
#define KSIM_ENGINE_PROTOCOL_API_H_

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/protocol/errors.h"
#include "engine/runtime/runtime.h"

namespace ksim {

using BrokerId = int32_t;
inline constexpr BrokerId kNoBroker = -1;

// Kafka's API keys (the subset ksim speaks), plus the metadata service's own.
enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kLeaderAndIsr = 4,
  kStopReplica = 5,
  kUpdateMetadata = 6,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kInitProducerId = 22,
  kOffsetForLeaderEpoch = 23,
  kCreatePartitions = 37,
  kDeleteGroups = 42,
  kElectLeaders = 43,
  kOffsetDelete = 47,
  kAlterPartition = 56,
  kBrokerHeartbeat = 63,
  // ksim's ZooKeeper-like metadata service (not a Kafka API).
  kMetaStore = 1000,
};

const char* ApiName(ApiKey api);

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  bool operator==(const TopicPartition&) const = default;
  std::string ToString() const { return topic + "-" + std::to_string(partition); }
};

// Approximate fixed wire overheads (request/response header + framing), in bytes.
inline constexpr int64_t kRequestHeaderBytes = 40;
inline constexpr int64_t kResponseHeaderBytes = 16;

class Request : public Payload {
 public:
  explicit Request(ApiKey api) : api_(api) {}
  ApiKey api() const { return api_; }
  // Wire size including the header, for the network's bandwidth model.
  virtual int64_t SizeBytes() const { return kRequestHeaderBytes; }

  int32_t correlation_id = 0;
  std::string client_id;

 private:
  ApiKey api_;
};

class Response : public Payload {
 public:
  explicit Response(ApiKey api) : api_(api) {}
  ApiKey api() const { return api_; }
  virtual int64_t SizeBytes() const { return kResponseHeaderBytes; }

  int32_t correlation_id = 0;
  // Not sent: the server closes the connection instead (Kafka's answer to a failed acks=0
  // produce, so that the client notices and refreshes its metadata).
  bool close_connection = false;

 private:
  ApiKey api_;
};

using RequestPtr = std::shared_ptr<const Request>;
using ResponsePtr = std::shared_ptr<const Response>;

// Casts a request/response known (by api()) to be of type T.
template <typename T>
std::shared_ptr<const T> As(const std::shared_ptr<const Request>& r) {
  return std::static_pointer_cast<const T>(r);
}
template <typename T>
std::shared_ptr<const T> As(const std::shared_ptr<const Response>& r) {
  return std::static_pointer_cast<const T>(r);
}

}  // namespace ksim

#endif  // KSIM_ENGINE_PROTOCOL_API_H_
