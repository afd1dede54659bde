// Client of the metadata service, as a broker uses ZooKeeper: one session kept alive by a
// long-polling fiber that also delivers watch events.
#ifndef KSIM_ENGINE_METASTORE_METASTORE_CLIENT_H_
#define KSIM_ENGINE_METASTORE_METASTORE_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/metastore/messages.h"
#include "engine/rpc/rpc_client.h"
#include "engine/runtime/runtime.h"

namespace ksim {

class MetaStoreClient {
 public:
  using EventFn = std::function<void(const WatchEvent&)>;

  MetaStoreClient(Runtime& rt, NodeId server, DurationNs session_timeout_ns);
  // The keep-alive fiber may still be inside a request: it keeps its own state alive and
  // stops at its next step.
  ~MetaStoreClient();

  // Opens a session (retrying until `deadline`) and starts the keep-alive poller. `on_event`
  // receives watch events; `on_expired` runs when the service reports the session expired
  // (the owner must open a new session and re-register its ephemeral znodes).
  absl::Status Open(TimeNs deadline, EventFn on_event, std::function<void()> on_expired);

  SessionId session() const { return poll_->session; }
  bool open() const { return poll_->session != 0; }

  // Operations. Transport failures come back as non-OK statuses; service outcomes as the
  // response's `error`.
  absl::StatusOr<std::shared_ptr<const MetaResponse>> Create(const std::string& path,
                                                             PayloadPtr data,
                                                             bool ephemeral);
  absl::StatusOr<std::shared_ptr<const MetaResponse>> SetData(const std::string& path,
                                                              PayloadPtr data,
                                                              int32_t expected_version);
  absl::StatusOr<std::shared_ptr<const MetaResponse>> GetData(const std::string& path,
                                                              bool watch);
  absl::StatusOr<std::shared_ptr<const MetaResponse>> GetChildren(const std::string& path,
                                                                  bool watch);
  absl::StatusOr<std::shared_ptr<const MetaResponse>> Delete(const std::string& path,
                                                             int32_t expected_version);

 private:
  struct PollState {
    PollState(Runtime& r, NodeId server, DurationNs timeout);
    Runtime& rt;
    DurationNs session_timeout_ns;
    RpcClient poller;
    SessionId session = 0;
    uint64_t last_event_seq = 0;
    EventFn on_event;
    std::function<void()> on_expired;
    bool closed = false;
  };
  absl::StatusOr<std::shared_ptr<const MetaResponse>> Do(std::shared_ptr<MetaRequest> r);
  static void PollLoop(std::shared_ptr<PollState> state, SessionId session);

  Runtime& rt_;
  DurationNs session_timeout_ns_;
  RpcClient ops_;
  std::shared_ptr<PollState> poll_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_METASTORE_METASTORE_CLIENT_H_
