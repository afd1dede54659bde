// Requests and responses of the ZooKeeper-like metadata service.
#ifndef KSIM_ENGINE_METASTORE_MESSAGES_H_
#define KSIM_ENGINE_METASTORE_MESSAGES_H_

#include <string>
#include <vector>

#include "engine/protocol/api.h"

namespace ksim {

using SessionId = int64_t;

enum class MetaOp : int8_t {
  kOpenSession,   // -> session id
  kCloseSession,
  kPoll,          // heartbeat + long poll for watch events
  kCreate,        // path, data, ephemeral
  kSetData,       // path, data, expected_version (-1: any)
  kGetData,       // path, watch
  kGetChildren,   // path prefix ("/brokers/ids"), watch
  kDelete,        // path, expected_version
};

enum class MetaError : int8_t { kOk, kNoNode, kNodeExists, kBadVersion, kSessionExpired };
const char* MetaErrorName(MetaError e);

enum class WatchType : int8_t { kData, kChildren };

struct WatchEvent {
  WatchType type = WatchType::kData;
  std::string path;
};

struct MetaRequest : Request {
  MetaRequest() : Request(ApiKey::kMetaStore) {}
  int64_t SizeBytes() const override {
    return kRequestHeaderBytes + static_cast<int64_t>(path.size()) + data_size_bytes;
  }
  MetaOp op = MetaOp::kPoll;
  SessionId session = 0;
  DurationNs session_timeout_ns = 0;  // kOpenSession
  DurationNs poll_wait_ns = 0;        // kPoll: how long to hold the request without events
  std::string path;
  PayloadPtr data;
  int64_t data_size_bytes = 0;
  bool ephemeral = false;
  bool watch = false;
  int32_t expected_version = -1;
  uint64_t ack_event_seq = 0;  // kPoll: events up to this sequence number were received
};

struct MetaResponse : Response {
  MetaResponse() : Response(ApiKey::kMetaStore) {}
  int64_t SizeBytes() const override {
    int64_t n = kResponseHeaderBytes + data_size_bytes;
    for (const auto& c : children) n += static_cast<int64_t>(c.size());
    return n + 16 * static_cast<int64_t>(events.size());
  }
  MetaError error = MetaError::kOk;
  SessionId session = 0;
  PayloadPtr data;
  int64_t data_size_bytes = 0;
  int32_t version = 0;
  std::vector<std::string> children;  // full paths, sorted
  std::vector<WatchEvent> events;
  std::vector<uint64_t> event_seqs;  // one per event; the client acknowledges the last
};

}  // namespace ksim

#endif  // KSIM_ENGINE_METASTORE_MESSAGES_H_
