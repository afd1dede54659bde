// Client side of Kafka-style request/response over one connection to one peer, like the Java
// client's NetworkClient for a single node: requests carry correlation ids and may be pipelined
// (the caller bounds how many are in flight); responses arrive in order. A request that times
// out closes the connection and fails everything in flight, as Kafka's clients do; the next
// call reconnects.
#ifndef KSIM_ENGINE_RPC_RPC_CLIENT_H_
#define KSIM_ENGINE_RPC_RPC_CLIENT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/protocol/api.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

class RpcClient {
 public:
  // `client_id` goes into request headers. `connect_timeout_ns` bounds each connection attempt.
  RpcClient(Runtime& rt, NodeId peer, std::string client_id,
            DurationNs connect_timeout_ns = 10 * kSecond);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  NodeId peer() const { return peer_; }

  // Sends `request` and blocks until its response or `deadline`. Errors: Unavailable (could
  // not connect, or the connection broke), DeadlineExceeded (no response in time; the
  // connection is closed). The request's correlation id and client id are filled in here.
  absl::StatusOr<ResponsePtr> Call(std::shared_ptr<Request> request, TimeNs deadline);

  // Sends without expecting a response (Produce with acks=0); returns once the request has
  // left this machine (or `connect_deadline` passed).
  absl::Status Send(std::shared_ptr<Request> request, TimeNs connect_deadline);

  // Closes the connection; in-flight calls fail with Unavailable.
  void Disconnect();

  bool connected() const;
  size_t in_flight() const;
  // Connections found broken (closed by the peer, reset, timed out) when the next request
  // reconnected. A client that sends without responses (acks=0) learns of trouble this way, as
  // Kafka's NetworkClient does from a disconnect, and refreshes its metadata.
  uint64_t broken_connections() const { return broken_connections_; }

 private:
  struct Conn;
  absl::Status EnsureConnected(TimeNs deadline);

  Runtime& rt_;
  NodeId peer_;
  std::string client_id_;
  DurationNs connect_timeout_ns_;
  int32_t next_correlation_id_ = 0;
  uint64_t broken_connections_ = 0;
  std::shared_ptr<Conn> conn_;
  Mutex connect_mu_;  // one connection attempt at a time
};

}  // namespace ksim

#endif  // KSIM_ENGINE_RPC_RPC_CLIENT_H_
