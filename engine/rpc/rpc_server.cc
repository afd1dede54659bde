#include "engine/rpc/rpc_server.h"

#include "absl/strings/str_cat.h"

namespace ksim {

void RpcServer::Start() {
  rt_.Spawn("accept", [this] {
    for (;;) {
      auto c = rt_.Accept(kForever);
      if (!c.ok()) continue;
      std::shared_ptr<Connection> connection(std::move(*c));
      rt_.Spawn(absl::StrCat("conn<-", connection->peer()),
                [this, connection] { Serve(connection); });
    }
  });
}

void RpcServer::Serve(std::shared_ptr<Connection> connection) {
  for (;;) {
    auto msg = connection->Receive(kForever);
    if (!msg.ok()) return;  // closed or reset by the peer
    auto request = std::static_pointer_cast<const Request>(*msg);
    std::shared_ptr<Response> response = handler_(request, connection->peer());
    if (response == nullptr) continue;
    if (response->close_connection) {
      connection->Close();
      return;
    }
    // Correlation ids echo the request's; handlers need not set them.
    response->correlation_id = request->correlation_id;
    if (!connection->Send(response, response->SizeBytes()).ok()) return;
  }
}

}  // namespace ksim
