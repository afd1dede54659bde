#include "engine/metastore/metastore_client.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

MetaStoreClient::MetaStoreClient(Runtime& rt, NodeId server, DurationNs session_timeout_ns)
    : rt_(rt),
      session_timeout_ns_(session_timeout_ns),
      ops_(rt, server, rt.node_name() + "-meta", session_timeout_ns / 3),
      poller_(rt, server, rt.node_name() + "-meta-poll", session_timeout_ns / 3) {}

absl::Status MetaStoreClient::Open(TimeNs deadline, EventFn on_event,
                                   std::function<void()> on_expired) {
  on_event_ = std::move(on_event);
  on_expired_ = std::move(on_expired);
  for (;;) {
    auto r = std::make_shared<MetaRequest>();
    r->op = MetaOp::kOpenSession;
    r->session_timeout_ns = session_timeout_ns_;
    auto resp = ops_.Call(r, DeadlineAfter(rt_.Now(), session_timeout_ns_ / 3));
    if (resp.ok()) {
      session_ = static_cast<const MetaResponse&>(**resp).session;
      last_event_seq_ = 0;
      break;
    }
    if (rt_.Now() >= deadline) return resp.status();
    rt_.Sleep(100 * kMillisecond);
  }
  SessionId s = session_;
  rt_.Spawn("meta-poll", [this, s] { PollLoop(s); });
  return absl::OkStatus();
}

void MetaStoreClient::PollLoop(SessionId session) {
  while (session_ == session) {
    auto r = std::make_shared<MetaRequest>();
    r->op = MetaOp::kPoll;
    r->session = session;
    r->poll_wait_ns = session_timeout_ns_ / 3;
    r->ack_event_seq = last_event_seq_;
    auto resp = poller_.Call(r, DeadlineAfter(rt_.Now(), session_timeout_ns_ / 3 * 2));
    if (!resp.ok()) {
      rt_.Sleep(50 * kMillisecond);  // unreachable: keep trying; the service decides expiry
      continue;
    }
    const auto& m = static_cast<const MetaResponse&>(**resp);
    if (m.error == MetaError::kSessionExpired) {
      if (session_ == session) {
        session_ = 0;
        if (on_expired_) on_expired_();
      }
      return;
    }
    for (size_t i = 0; i < m.events.size(); ++i) {
      if (m.event_seqs[i] <= last_event_seq_) continue;  // seen in an earlier response
      last_event_seq_ = m.event_seqs[i];
      if (on_event_) on_event_(m.events[i]);
    }
  }
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::Do(
    std::shared_ptr<MetaRequest> r) {
  r->session = session_;
  auto resp = ops_.Call(r, DeadlineAfter(rt_.Now(), session_timeout_ns_ / 3));
  if (!resp.ok()) return resp.status();
  return std::static_pointer_cast<const MetaResponse>(*resp);
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::Create(
    const std::string& path, PayloadPtr data, bool ephemeral) {
  auto r = std::make_shared<MetaRequest>();
  r->op = MetaOp::kCreate;
  r->path = path;
  r->data = std::move(data);
  r->data_size_bytes = 64;
  r->ephemeral = ephemeral;
  return Do(r);
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::SetData(
    const std::string& path, PayloadPtr data, int32_t expected_version) {
  auto r = std::make_shared<MetaRequest>();
  r->op = MetaOp::kSetData;
  r->path = path;
  r->data = std::move(data);
  r->data_size_bytes = 64;
  r->expected_version = expected_version;
  return Do(r);
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::GetData(
    const std::string& path, bool watch) {
  auto r = std::make_shared<MetaRequest>();
  r->op = MetaOp::kGetData;
  r->path = path;
  r->watch = watch;
  return Do(r);
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::GetChildren(
    const std::string& path, bool watch) {
  auto r = std::make_shared<MetaRequest>();
  r->op = MetaOp::kGetChildren;
  r->path = path;
  r->watch = watch;
  return Do(r);
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::Delete(
    const std::string& path, int32_t expected_version) {
  auto r = std::make_shared<MetaRequest>();
  r->op = MetaOp::kDelete;
  r->path = path;
  r->expected_version = expected_version;
  return Do(r);
}

}  // namespace ksim
