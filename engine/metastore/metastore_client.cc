#include "engine/metastore/metastore_client.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

MetaStoreClient::PollState::PollState(Runtime& r, NodeId server, DurationNs timeout)
    : rt(r), session_timeout_ns(timeout),
      poller(r, server, r.node_name() + "-meta-poll", timeout / 3) {}

MetaStoreClient::MetaStoreClient(Runtime& rt, NodeId server, DurationNs session_timeout_ns)
    : rt_(rt),
      session_timeout_ns_(session_timeout_ns),
      ops_(rt, server, rt.node_name() + "-meta", session_timeout_ns / 3),
      poll_(std::make_shared<PollState>(rt, server, session_timeout_ns)) {}

MetaStoreClient::~MetaStoreClient() { poll_->closed = true; }

absl::Status MetaStoreClient::Open(TimeNs deadline, EventFn on_event,
                                   std::function<void()> on_expired) {
  poll_->on_event = std::move(on_event);
  poll_->on_expired = std::move(on_expired);
  for (;;) {
    auto r = std::make_shared<MetaRequest>();
    r->op = MetaOp::kOpenSession;
    r->session_timeout_ns = session_timeout_ns_;
    auto resp = ops_.Call(r, DeadlineAfter(rt_.Now(), session_timeout_ns_ / 3));
    if (resp.ok()) {
      poll_->session = static_cast<const MetaResponse&>(**resp).session;
      poll_->last_event_seq = 0;
      break;
    }
    if (rt_.Now() >= deadline) return resp.status();
    rt_.Sleep(100 * kMillisecond);
  }
  auto state = poll_;
  const SessionId s = state->session;
  rt_.Spawn("meta-poll", [state, s] { PollLoop(state, s); });
  return absl::OkStatus();
}

void MetaStoreClient::PollLoop(std::shared_ptr<PollState> st, SessionId session) {
  while (!st->closed && st->session == session) {
    auto r = std::make_shared<MetaRequest>();
    r->op = MetaOp::kPoll;
    r->session = session;
    r->poll_wait_ns = st->session_timeout_ns / 3;
    r->ack_event_seq = st->last_event_seq;
    auto resp = st->poller.Call(r, DeadlineAfter(st->rt.Now(), st->session_timeout_ns / 3 * 2));
    if (st->closed) return;
    if (!resp.ok()) {
      st->rt.Sleep(50 * kMillisecond);  // unreachable: keep trying; the service decides expiry
      continue;
    }
    const auto& m = static_cast<const MetaResponse&>(**resp);
    if (m.error == MetaError::kSessionExpired) {
      if (st->session == session) {
        st->session = 0;
        if (st->on_expired) st->on_expired();
      }
      return;
    }
    for (size_t i = 0; i < m.events.size() && !st->closed; ++i) {
      if (m.event_seqs[i] <= st->last_event_seq) continue;  // seen in an earlier response
      st->last_event_seq = m.event_seqs[i];
      if (st->on_event) st->on_event(m.events[i]);
    }
  }
}

absl::StatusOr<std::shared_ptr<const MetaResponse>> MetaStoreClient::Do(
    std::shared_ptr<MetaRequest> r) {
  r->session = poll_->session;
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
