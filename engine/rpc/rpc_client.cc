#include "engine/rpc/rpc_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

using CallResult = absl::StatusOr<ResponsePtr>;

// One live connection and its pending calls. Shared with the reader fiber, which outlives the
// RpcClient if the client is destroyed mid-call.
struct RpcClient::Conn {
  std::unique_ptr<Connection> connection;
  std::map<int32_t, Promise<CallResult>> pending;
  bool broken = false;

  void FailAll(const absl::Status& status) {
    broken = true;
    std::map<int32_t, Promise<CallResult>> p;
    p.swap(pending);
    for (auto& [id, promise] : p) promise.Set(status);
    if (connection) connection->Close();
  }
};

RpcClient::RpcClient(Runtime& rt, NodeId peer, std::string client_id,
                     DurationNs connect_timeout_ns)
    : rt_(rt), peer_(peer), client_id_(std::move(client_id)),
      connect_timeout_ns_(connect_timeout_ns) {}

RpcClient::~RpcClient() { Disconnect(); }

bool RpcClient::connected() const { return conn_ != nullptr && !conn_->broken; }

size_t RpcClient::in_flight() const { return conn_ == nullptr ? 0 : conn_->pending.size(); }

void RpcClient::Disconnect() {
  if (conn_ != nullptr) {
    conn_->FailAll(absl::UnavailableError("disconnected"));
    conn_ = nullptr;
  }
}

absl::Status RpcClient::EnsureConnected(TimeNs deadline) {
  MutexLock lock(connect_mu_);
  if (connected()) return absl::OkStatus();
  if (conn_ != nullptr) ++broken_connections_;
  conn_ = nullptr;
  TimeNs connect_deadline = std::min(deadline, DeadlineAfter(rt_.Now(), connect_timeout_ns_));
  auto c = rt_.Connect(peer_, connect_deadline);
  if (!c.ok()) return c.status();
  auto conn = std::make_shared<Conn>();
  conn->connection = std::move(*c);
  conn_ = conn;
  // The reader completes calls in order of arrival; it ends when the connection breaks.
  rt_.Spawn(absl::StrCat("rpc-reader->", peer_), [conn] {
    for (;;) {
      auto msg = conn->connection->Receive(kForever);
      if (!msg.ok()) {
        conn->FailAll(absl::UnavailableError(
            absl::StrCat("connection to node lost: ", msg.status().message())));
        return;
      }
      auto response = std::static_pointer_cast<const Response>(*msg);
      auto it = conn->pending.find(response->correlation_id);
      if (it == conn->pending.end()) continue;  // the call already gave up
      Promise<CallResult> promise = std::move(it->second);
      conn->pending.erase(it);
      promise.Set(ResponsePtr(response));
    }
  });
  return absl::OkStatus();
}

absl::StatusOr<ResponsePtr> RpcClient::Call(std::shared_ptr<Request> request, TimeNs deadline) {
  if (absl::Status s = EnsureConnected(deadline); !s.ok()) return s;
  std::shared_ptr<Conn> conn = conn_;
  request->correlation_id = ++next_correlation_id_;
  request->client_id = client_id_;
  const int32_t id = request->correlation_id;
  Promise<CallResult> promise;
  Future<CallResult> future = promise.GetFuture();
  conn->pending.emplace(id, promise);
  const int64_t size_bytes = request->SizeBytes();
  if (absl::Status s = conn->connection->Send(std::move(request), size_bytes); !s.ok()) {
    conn->FailAll(s);
    return s;
  }
  if (!future.Wait(deadline)) {
    // Kafka's clients treat a request timeout as a dead connection.
    if (conn == conn_) Disconnect();
    return absl::DeadlineExceededError(absl::StrCat("request timed out after waiting until ",
                                                    FormatTime(deadline)));
  }
  return future.Get();
}

absl::Status RpcClient::Send(std::shared_ptr<Request> request, TimeNs connect_deadline) {
  if (absl::Status s = EnsureConnected(connect_deadline); !s.ok()) return s;
  request->correlation_id = ++next_correlation_id_;
  request->client_id = client_id_;
  const int64_t size_bytes = request->SizeBytes();
  std::shared_ptr<Conn> conn = conn_;
  absl::Status s = conn->connection->Send(std::move(request), size_bytes);
  // Like a request that expects no response in Kafka's NetworkClient, this one is done once it
  // is written out: wait for the socket's send buffer to drain.
  if (s.ok()) s = conn->connection->WaitSent(connect_deadline);
  if (!s.ok()) conn->FailAll(s);
  return s;
}

}  // namespace ksim
