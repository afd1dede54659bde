#include "engine/metastore/metastore_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

const char* MetaErrorName(MetaError e) {
  switch (e) {
    case MetaError::kOk: return "OK";
    case MetaError::kNoNode: return "NONODE";
    case MetaError::kNodeExists: return "NODEEXISTS";
    case MetaError::kBadVersion: return "BADVERSION";
    case MetaError::kSessionExpired: return "SESSIONEXPIRED";
  }
  return "?";
}

MetaStoreServer::MetaStoreServer(Runtime& rt)
    : rt_(rt), server_(rt, [this](const RequestPtr& r, NodeId from) { return Handle(r, from); }) {}

void MetaStoreServer::Start() {
  server_.Start();
  rt_.Spawn("session-expiry", [this] { ExpireLoop(); });
}

std::string MetaStoreServer::Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::shared_ptr<Response> MetaStoreServer::Handle(const RequestPtr& request, NodeId from) {
  KSIM_CHECK(request->api() == ApiKey::kMetaStore);
  const auto& r = static_cast<const MetaRequest&>(*request);
  if (r.op != MetaOp::kOpenSession) {
    auto it = sessions_.find(r.session);
    if (it == sessions_.end()) {
      auto resp = std::make_shared<MetaResponse>();
      resp->error = MetaError::kSessionExpired;
      return resp;
    }
    it->second.last_heard = rt_.Now();
  }
  if (r.op == MetaOp::kPoll) return Poll(r);
  return Apply(r, from);
}

std::shared_ptr<MetaResponse> MetaStoreServer::Poll(const MetaRequest& r) {
  auto resp = std::make_shared<MetaResponse>();
  Session* s = &sessions_.at(r.session);
  while (!s->events.empty() && s->events.front().first <= r.ack_event_seq) s->events.pop_front();
  if (s->events.empty()) {
    auto wakeup = std::make_shared<Event>();
    s->wakeup = wakeup;
    wakeup->Wait(DeadlineAfter(rt_.Now(), r.poll_wait_ns));
    auto it = sessions_.find(r.session);
    if (it == sessions_.end()) {
      resp->error = MetaError::kSessionExpired;
      return resp;
    }
    s = &it->second;
    s->wakeup = nullptr;
  }
  for (const auto& [seq, e] : s->events) {
    resp->events.push_back(e);
    resp->event_seqs.push_back(seq);
  }
  return resp;
}

std::shared_ptr<MetaResponse> MetaStoreServer::Apply(const MetaRequest& r, NodeId from) {
  auto resp = std::make_shared<MetaResponse>();
  switch (r.op) {
    case MetaOp::kOpenSession: {
      SessionId id = next_session_++;
      Session& s = sessions_[id];
      s.timeout_ns = r.session_timeout_ns;
      s.last_heard = rt_.Now();
      s.client = from;
      resp->session = id;
      rt_.Trace("session-open", absl::StrCat("session=", id, " node=", from));
      break;
    }
    case MetaOp::kCloseSession:
      ExpireSession(r.session);
      break;
    case MetaOp::kCreate: {
      if (tree_.count(r.path) > 0) {
        resp->error = MetaError::kNodeExists;
        break;
      }
      Znode& z = tree_[r.path];
      z.data = r.data;
      z.data_size_bytes = r.data_size_bytes;
      if (r.ephemeral) {
        z.ephemeral_owner = r.session;
        sessions_.at(r.session).ephemerals.insert(r.path);
      }
      FireData(r.path);
      FireChildren(Parent(r.path));
      break;
    }
    case MetaOp::kSetData: {
      auto it = tree_.find(r.path);
      if (it == tree_.end()) {
        resp->error = MetaError::kNoNode;
        break;
      }
      if (r.expected_version >= 0 && r.expected_version != it->second.version) {
        resp->error = MetaError::kBadVersion;
        resp->version = it->second.version;
        break;
      }
      it->second.data = r.data;
      it->second.data_size_bytes = r.data_size_bytes;
      resp->version = ++it->second.version;
      FireData(r.path);
      break;
    }
    case MetaOp::kGetData: {
      if (r.watch) data_watches_[r.path].insert(r.session);
      auto it = tree_.find(r.path);
      if (it == tree_.end()) {
        resp->error = MetaError::kNoNode;
        break;
      }
      resp->data = it->second.data;
      resp->data_size_bytes = it->second.data_size_bytes;
      resp->version = it->second.version;
      break;
    }
    case MetaOp::kGetChildren: {
      if (r.watch) child_watches_[r.path].insert(r.session);
      const std::string prefix = r.path + "/";
      for (auto it = tree_.lower_bound(prefix); it != tree_.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        if (it->first.find('/', prefix.size()) == std::string::npos) {
          resp->children.push_back(it->first);
        }
      }
      break;
    }
    case MetaOp::kDelete: {
      auto it = tree_.find(r.path);
      if (it == tree_.end()) {
        resp->error = MetaError::kNoNode;
        break;
      }
      if (r.expected_version >= 0 && r.expected_version != it->second.version) {
        resp->error = MetaError::kBadVersion;
        break;
      }
      if (it->second.ephemeral_owner != 0) {
        auto s = sessions_.find(it->second.ephemeral_owner);
        if (s != sessions_.end()) s->second.ephemerals.erase(r.path);
      }
      tree_.erase(it);
      FireData(r.path);
      FireChildren(Parent(r.path));
      break;
    }
    case MetaOp::kPoll:
      KSIM_UNREACHABLE("poll handled separately");
  }
  return resp;
}

void MetaStoreServer::ExpireLoop() {
  for (;;) {
    rt_.Sleep(100 * kMillisecond);
    std::vector<SessionId> expired;
    for (const auto& [id, s] : sessions_) {
      if (rt_.Now() - s.last_heard > s.timeout_ns) expired.push_back(id);
    }
    for (SessionId id : expired) ExpireSession(id);
  }
}

void MetaStoreServer::ExpireSession(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  rt_.Trace("session-expired", absl::StrCat("session=", id, " node=", it->second.client));
  std::set<std::string> ephemerals = std::move(it->second.ephemerals);
  if (it->second.wakeup) it->second.wakeup->Set();
  sessions_.erase(it);
  for (const std::string& path : ephemerals) {
    tree_.erase(path);
    FireData(path);
    FireChildren(Parent(path));
  }
  for (auto& [path, watchers] : data_watches_) watchers.erase(id);
  for (auto& [path, watchers] : child_watches_) watchers.erase(id);
}

void MetaStoreServer::FireData(const std::string& path) {
  auto it = data_watches_.find(path);
  if (it == data_watches_.end()) return;
  std::set<SessionId> watchers = std::move(it->second);
  data_watches_.erase(it);
  for (SessionId s : watchers) Notify(s, WatchEvent{WatchType::kData, path});
}

void MetaStoreServer::FireChildren(const std::string& path) {
  auto it = child_watches_.find(path);
  if (it == child_watches_.end()) return;
  std::set<SessionId> watchers = std::move(it->second);
  child_watches_.erase(it);
  for (SessionId s : watchers) Notify(s, WatchEvent{WatchType::kChildren, path});
}

void MetaStoreServer::Notify(SessionId id, WatchEvent event) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.events.emplace_back(it->second.next_event_seq++, std::move(event));
  if (it->second.wakeup) it->second.wakeup->Set();
}

}  // namespace ksim
