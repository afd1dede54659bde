// Server side: accepts connections and serves requests. Like a Kafka broker's socket server,
// each connection is served one request at a time, in order (Kafka mutes a channel until its
// response is sent), so a handler may block (delayed produce, long-poll fetch) without
// reordering that connection's responses.
#ifndef KSIM_ENGINE_RPC_RPC_SERVER_H_
#define KSIM_ENGINE_RPC_RPC_SERVER_H_

#include <functional>

#include "engine/protocol/api.h"
#include "engine/runtime/runtime.h"

namespace ksim {

class RpcServer {
 public:
  // Returns the response, or nullptr for requests that get none (acks=0 produce).
  using Handler =
      std::function<std::shared_ptr<Response>(const RequestPtr& request, NodeId from)>;

  RpcServer(Runtime& rt, Handler handler) : rt_(rt), handler_(std::move(handler)) {}

  // Spawns the accept loop on the node. Connections die with the node.
  void Start();

 private:
  void Serve(std::shared_ptr<Connection> connection);

  Runtime& rt_;
  Handler handler_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_RPC_RPC_SERVER_H_
