// A ZooKeeper-like metadata service: a tree of versioned znodes, sessions with timeouts,
// ephemeral znodes deleted when their session expires, and one-shot watches. Brokers register
// themselves as ephemeral znodes and elect the controller through it, as Kafka did with
// ZooKeeper.
//
// ksim models the service as one reliable node: its state lives in memory and faults are not
// injected into it (a ZooKeeper ensemble's own failures are out of scope).
#ifndef KSIM_ENGINE_METASTORE_METASTORE_SERVER_H_
#define KSIM_ENGINE_METASTORE_METASTORE_SERVER_H_

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/metastore/messages.h"
#include "engine/rpc/rpc_server.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"

namespace ksim {

class MetaStoreServer {
 public:
  explicit MetaStoreServer(Runtime& rt);
  // Starts serving and the session-expiry loop.
  void Start();

  size_t session_count() const { return sessions_.size(); }

 private:
  struct Znode {
    PayloadPtr data;
    int64_t data_size_bytes = 0;
    int32_t version = 0;
    SessionId ephemeral_owner = 0;
  };
  struct Session {
    DurationNs timeout_ns = 0;
    TimeNs last_heard = 0;
    NodeId client = kNoNode;
    // Watch events not yet acknowledged by the client, with their sequence numbers: a poll
    // response lost to a broken connection is resent, as ZooKeeper's session guarantees.
    std::deque<std::pair<uint64_t, WatchEvent>> events;
    uint64_t next_event_seq = 1;
    std::set<std::string> ephemerals;
    std::shared_ptr<Event> wakeup;  // a pending Poll waits on it
  };

  std::shared_ptr<Response> Handle(const RequestPtr& request, NodeId from);
  std::shared_ptr<MetaResponse> Apply(const MetaRequest& r, NodeId from);
  std::shared_ptr<MetaResponse> Poll(const MetaRequest& r);
  void ExpireLoop();
  void ExpireSession(SessionId id);
  void FireData(const std::string& path);
  void FireChildren(const std::string& path);
  void Notify(SessionId id, WatchEvent event);
  static std::string Parent(const std::string& path);

  Runtime& rt_;
  RpcServer server_;
  std::map<std::string, Znode> tree_;
  std::map<SessionId, Session> sessions_;
  SessionId next_session_ = 1;
  std::map<std::string, std::set<SessionId>> data_watches_;
  std::map<std::string, std::set<SessionId>> child_watches_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_METASTORE_METASTORE_SERVER_H_
