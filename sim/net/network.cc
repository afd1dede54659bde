#include "sim/net/network.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

// One end of a connection: the engine's Connection.
class NetEndpoint final : public Connection {
 public:
  NetEndpoint(Network& net, std::shared_ptr<Network::Conn> c, int side)
      : net_(net), c_(std::move(c)), side_(side) {}
  ~NetEndpoint() override { Close(); }

  NodeId peer() const override { return c_->node[1 - side_]; }

  absl::Status Send(PayloadPtr msg, int64_t size_bytes) override {
    KSIM_CHECK(size_bytes >= 0);
    if (closed_ || c_->to[side_].reset || c_->to[1 - side_].reset) {
      return absl::UnavailableError("connection closed or reset");
    }
    sent_until_ = std::max(sent_until_, net_.Transmit(c_, 1 - side_, std::move(msg), size_bytes));
    return absl::OkStatus();
  }

  absl::Status WaitSent(TimeNs deadline) override {
    for (;;) {
      if (closed_ || c_->to[side_].reset || c_->to[1 - side_].reset) {
        return absl::UnavailableError("connection closed or reset");
      }
      const TimeNs now = Scheduler::Current().Now();
      if (sent_until_ != kForever) {
        if (sent_until_ <= now) return absl::OkStatus();
        if (sent_until_ > deadline) {
          SleepUntil(deadline);
          return absl::DeadlineExceededError("send buffer did not drain in time");
        }
        SleepUntil(sent_until_);
        continue;
      }
      // Held by a partition: TCP keeps the data until the path heals (checked every 10 ms).
      if (c_->to[1 - side_].held.empty()) {
        sent_until_ = now;
        continue;
      }
      if (now >= deadline) return absl::DeadlineExceededError("send buffer did not drain in time");
      SleepUntil(std::min(deadline, now + 10 * kMillisecond));
    }
  }

  absl::StatusOr<PayloadPtr> Receive(TimeNs deadline) override {
    Network::Direction& d = c_->to[side_];
    for (;;) {
      if (!d.inbox.empty()) {
        PayloadPtr m = std::move(d.inbox.front());
        d.inbox.pop_front();
        return m;
      }
      if (closed_) return absl::UnavailableError("connection closed");
      if (d.reset) return absl::UnavailableError("connection reset by peer");
      if (d.fin) return absl::UnavailableError("connection closed by peer");
      if (d.waiters.Wait(deadline) == WakeReason::kTimedOut && d.inbox.empty() && !d.reset &&
          !d.fin && !closed_) {
        return absl::DeadlineExceededError("receive timed out");
      }
    }
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (net_.shut_down_) return;
    c_->to[side_].waiters.NotifyAll();
    if (!c_->to[1 - side_].reset) net_.SendFin(c_, 1 - side_);
  }

  bool is_open() const override { return !closed_ && !c_->to[side_].reset && !c_->to[side_].fin; }

 private:
  Network& net_;
  std::shared_ptr<Network::Conn> c_;
  int side_;
  bool closed_ = false;
  TimeNs sent_until_ = 0;  // when the last message sent leaves the NIC
};

Network::Network(Kernel& kernel) : kernel_(kernel), rng_(kernel.Stream("net")) {
  kernel_.OnCrash([this](NodeId n) { OnCrash(n); });
}

Network::~Network() = default;

void Network::AddNode(NodeId node, NicProfile nic) {
  KSIM_CHECK(nic.out_bits_per_second > 0 && nic.in_bits_per_second > 0);
  nodes_[node].nic = nic;
}

void Network::SetLink(NodeId a, NodeId b, LinkProfile link) {
  links_[{std::min(a, b), std::max(a, b)}] = link;
}

const LinkProfile& Network::LinkOf(NodeId a, NodeId b) const {
  auto it = links_.find({std::min(a, b), std::max(a, b)});
  return it == links_.end() ? default_link_ : it->second;
}

DurationNs Network::Jitter(const LinkProfile& l, DurationNs extra_jitter) {
  const double j = static_cast<double>(l.jitter_ns + extra_jitter);
  if (j <= 0) return 0;
  double d = 0;
  switch (l.distribution) {
    case LinkProfile::Distribution::kConstant: d = 0; break;
    case LinkProfile::Distribution::kUniform: d = rng_.NextDouble() * j; break;
    case LinkProfile::Distribution::kNormal: d = std::abs(rng_.Normal(0, j)); break;
    case LinkProfile::Distribution::kExponential: d = rng_.Exponential(j); break;
  }
  return static_cast<DurationNs>(d);
}

DurationNs Network::DrawDelay(NodeId from, NodeId to) {
  const LinkProfile& l = LinkOf(from, to);
  DurationNs extra = 0, extra_jitter = 0;
  for (const auto& [h, d] : delays_) {
    if ((d.a.count(from) && d.b.count(to)) || (d.a.count(to) && d.b.count(from))) {
      extra += d.extra_latency_ns;
      extra_jitter += d.extra_jitter_ns;
    }
  }
  return l.latency_ns + extra + Jitter(l, extra_jitter);
}

bool Network::Blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) > 0; }

TimeNs Network::Transmit(const std::shared_ptr<Conn>& c, int side_to, PayloadPtr msg,
                         int64_t size_bytes) {
  const NodeId from = c->node[1 - side_to];
  const NodeId to = c->node[side_to];
  Direction& d = c->to[side_to];
  NodeNet& src = nodes_.at(from);
  src.stats.messages_sent++;
  src.stats.bytes_sent += size_bytes;
  if (Blocked(from, to) || !d.held.empty()) {
    d.held.emplace_back(std::move(msg), size_bytes);  // TCP keeps retransmitting
    return kForever;
  }
  // Cut-through: the bytes go onto the sender's wire from `start` to `departed` (after the
  // messages queued before them on that NIC) and reach the receiver's link one propagation
  // delay later, while the sender is still transmitting.
  const TimeNs start = std::max(kernel_.Now(), src.out_free);
  const TimeNs departed = start + WireNs(size_bytes, src.nic.out_bits_per_second, src.throttle);
  src.out_free = departed;
  const DurationNs delay = DrawDelay(from, to);
  // TCP is a byte stream: a message does not arrive before the one sent ahead of it.
  const TimeNs first_byte = std::max(start + delay, d.last_first_byte);
  const TimeNs last_byte = std::max({departed + delay, d.last_last_byte, first_byte});
  d.last_first_byte = first_byte;
  d.last_last_byte = last_byte;
  NodeNet& dst = nodes_.at(to);
  KSIM_CHECK(first_byte >= dst.in_updated);
  if (last_byte > first_byte) {
    // The bytes arrive evenly over [first_byte, last_byte]: the receiver's link sees this
    // message's rate added to its arrivals over that interval.
    const int64_t rate = static_cast<int64_t>(std::llround(
        static_cast<double>(size_bytes) * 1e9 / static_cast<double>(last_byte - first_byte)));
    dst.in_rate_changes[first_byte] += rate;
    dst.in_rate_changes[last_byte] -= rate;
  }
  const bool impulse = last_byte == first_byte;
  const uint64_t incarnation = c->incarnation[side_to];
  kernel_.At(last_byte, [this, c, side_to, incarnation, impulse, msg = std::move(msg),
                         size_bytes]() mutable {
    Arrived(c, side_to, incarnation, impulse, std::move(msg), size_bytes);
  });
  return departed;
}

DurationNs Network::WireNs(int64_t bytes, int64_t bits_per_second, double factor) {
  return static_cast<DurationNs>(static_cast<double>(bytes) * 8e9 /
                                 (static_cast<double>(bits_per_second) * factor));
}

double Network::InboundBytesPerNs(const NodeNet& n) {
  return static_cast<double>(n.nic.in_bits_per_second) * n.throttle / 8e9;
}

void Network::AdvanceInbound(NodeNet& n, TimeNs t) {
  // A fluid FIFO queue in front of the inbound link: bytes join it at the summed rate of the
  // messages arriving, and leave it at the link's bandwidth.
  const double cap = InboundBytesPerNs(n);
  auto integrate = [&](TimeNs until) {
    const double dt = static_cast<double>(until - n.in_updated);
    n.in_backlog_bytes =
        std::max(0.0, n.in_backlog_bytes + (static_cast<double>(n.in_rate) / 1e9 - cap) * dt);
    n.in_updated = until;
  };
  while (!n.in_rate_changes.empty() && n.in_rate_changes.begin()->first <= t) {
    auto it = n.in_rate_changes.begin();
    integrate(it->first);
    n.in_rate += it->second;
    n.in_rate_changes.erase(it);
  }
  integrate(t);
  KSIM_CHECK(n.in_rate >= 0);
  if (n.in_rate_changes.empty()) {
    KSIM_CHECK(n.in_rate == 0);
  }
}

void Network::Arrived(const std::shared_ptr<Conn>& c, int side_to, uint64_t incarnation,
                      bool impulse, PayloadPtr msg, int64_t size_bytes) {
  const NodeId to = c->node[side_to];
  Direction& d = c->to[side_to];
  NodeNet& dst = nodes_.at(to);
  const TimeNs now = kernel_.Now();
  // The last byte is at the receiver's link. The link takes bytes in the order they arrive,
  // at its bandwidth: the message is in once what arrived before its last byte has drained.
  // Uncontended that is now (cut-through); senders converging on the link share it.
  AdvanceInbound(dst, now);
  if (impulse) dst.in_backlog_bytes += static_cast<double>(size_bytes);
  if (d.reset || kernel_.Incarnation(to) != incarnation || !kernel_.IsUp(to)) return;
  const TimeNs drained =
      now + static_cast<DurationNs>(std::llround(dst.in_backlog_bytes / InboundBytesPerNs(dst)));
  const TimeNs received = std::max(drained, d.last_delivery);  // in order
  d.last_delivery = received;
  auto deliver = [this, c, side_to, to, incarnation, msg = std::move(msg), size_bytes] {
    Direction& dir = c->to[side_to];
    if (dir.reset || kernel_.Incarnation(to) != incarnation || !kernel_.IsUp(to)) return;
    dir.inbox.push_back(msg);
    NodeNet& n = nodes_.at(to);
    n.stats.messages_delivered++;
    n.stats.bytes_delivered += size_bytes;
    dir.waiters.NotifyOne();
  };
  if (received == now && d.pending_deliveries == 0) {
    deliver();
    return;
  }
  ++d.pending_deliveries;
  kernel_.At(received, [c, side_to, deliver = std::move(deliver)] {
    --c->to[side_to].pending_deliveries;
    deliver();
  });
}

void Network::SendFin(const std::shared_ptr<Conn>& c, int side_to) {
  const NodeId from = c->node[1 - side_to];
  const NodeId to = c->node[side_to];
  Direction& d = c->to[side_to];
  // The FIN follows the data already sent, after one trip: it reaches the receiver no
  // earlier than the last message's last byte (whose Arrived, scheduled before, has then run
  // and fixed that message's delivery), and is seen once that message is delivered.
  const TimeNs at = std::max(d.last_last_byte, kernel_.Now() + DrawDelay(from, to));
  kernel_.At(at, [this, c, side_to] {
    auto fin = [c, side_to] {
      Direction& dir = c->to[side_to];
      dir.fin = true;
      dir.waiters.NotifyAll();
    };
    const TimeNs last = c->to[side_to].last_delivery;
    if (last > kernel_.Now() || c->to[side_to].pending_deliveries > 0) {
      kernel_.At(last, fin);
    } else {
      fin();
    }
  });
}

void Network::SendReset(const std::shared_ptr<Conn>& c, int side_to) {
  const NodeId from = c->node[1 - side_to];
  const NodeId to = c->node[side_to];
  if (Blocked(from, to)) {
    c->to[side_to].pending_reset = true;
    return;
  }
  kernel_.At(kernel_.Now() + DrawDelay(from, to), [c, side_to] {
    Direction& dir = c->to[side_to];
    dir.reset = true;
    dir.waiters.NotifyAll();
  });
}

void Network::OnCrash(NodeId node) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    auto c = it->second.lock();
    if (c == nullptr) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    for (int side = 0; side < 2; ++side) {
      if (c->node[side] != node) continue;
      // The crashed side forgets everything; its peer learns of it by a reset.
      c->to[side].reset = true;
      c->to[side].held.clear();
      c->to[side].waiters.NotifyAll();
      c->to[1 - side].held.clear();
      SendReset(c, 1 - side);
    }
  }
  auto n = nodes_.find(node);
  if (n != nodes_.end()) n->second.backlog.clear();
}

absl::StatusOr<std::unique_ptr<Connection>> Network::Connect(NodeId from, NodeId to,
                                                             TimeNs deadline) {
  KSIM_CHECK(nodes_.count(from) > 0 && nodes_.count(to) > 0);
  // SYN and SYN-ACK: a blocked path in either direction stalls the handshake.
  while (Blocked(from, to) || Blocked(to, from)) {
    if (kernel_.Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("connect to ", kernel_.NodeName(to), " timed out"));
    }
    SleepUntil(std::min(deadline, kernel_.Now() + 100 * kMillisecond));
  }
  const DurationNs rtt = DrawDelay(from, to) + DrawDelay(to, from);
  if (kernel_.Now() + rtt > deadline) {
    SleepUntil(deadline);
    return absl::DeadlineExceededError(
        absl::StrCat("connect to ", kernel_.NodeName(to), " timed out"));
  }
  Sleep(rtt);
  if (!kernel_.IsUp(to)) {
    return absl::UnavailableError(absl::StrCat("connection refused by ", kernel_.NodeName(to)));
  }
  auto c = std::make_shared<Conn>();
  c->id = next_conn_++;
  c->node[0] = from;
  c->node[1] = to;
  c->incarnation[0] = kernel_.Incarnation(from);
  c->incarnation[1] = kernel_.Incarnation(to);
  conns_[c->id] = c;
  NodeNet& server = nodes_.at(to);
  server.backlog.push_back(std::make_unique<NetEndpoint>(*this, c, 1));
  server.accept_waiters.NotifyOne();
  return std::unique_ptr<Connection>(std::make_unique<NetEndpoint>(*this, c, 0));
}

absl::StatusOr<std::unique_ptr<Connection>> Network::Accept(NodeId at, TimeNs deadline) {
  NodeNet& n = nodes_.at(at);
  while (n.backlog.empty()) {
    if (n.accept_waiters.Wait(deadline) == WakeReason::kTimedOut && n.backlog.empty()) {
      return absl::DeadlineExceededError("accept timed out");
    }
  }
  std::unique_ptr<Connection> c = std::move(n.backlog.front());
  n.backlog.pop_front();
  return c;
}

void Network::Partition(NodeId a, NodeId b) {
  if (a == b) return;
  blocked_.insert({a, b});
  blocked_.insert({b, a});
  kernel_.Trace(kNoNode, "partition",
                absl::StrCat(kernel_.NodeName(a), " -x- ", kernel_.NodeName(b)));
}

void Network::PartitionOneWay(NodeId from, NodeId to) {
  if (from == to) return;
  blocked_.insert({from, to});
  kernel_.Trace(kNoNode, "partition",
                absl::StrCat(kernel_.NodeName(from), " -x-> ", kernel_.NodeName(to)));
}

void Network::Isolate(NodeId node) {
  for (const auto& [other, n] : nodes_) {
    if (other != node) {
      blocked_.insert({node, other});
      blocked_.insert({other, node});
    }
  }
  kernel_.Trace(kNoNode, "partition", absl::StrCat("isolate ", kernel_.NodeName(node)));
}

void Network::Heal(NodeId a, NodeId b) {
  blocked_.erase({a, b});
  blocked_.erase({b, a});
  Unblocked();
}

void Network::HealAll() {
  blocked_.clear();
  Unblocked();
  kernel_.Trace(kNoNode, "heal", "all partitions healed");
}

void Network::Unblocked() {
  // Stalled messages and resets resume, in connection order, from the moment of healing.
  for (auto it = conns_.begin(); it != conns_.end();) {
    auto c = it->second.lock();
    if (c == nullptr) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
    for (int side = 0; side < 2; ++side) {
      Direction& d = c->to[side];
      const NodeId from = c->node[1 - side];
      const NodeId to = c->node[side];
      if (Blocked(from, to)) continue;
      if (d.pending_reset) {
        d.pending_reset = false;
        SendReset(c, side);
      }
      std::deque<std::pair<PayloadPtr, int64_t>> held;
      held.swap(d.held);
      for (auto& [msg, size] : held) {
        nodes_.at(from).stats.messages_sent--;  // counted again by Transmit
        nodes_.at(from).stats.bytes_sent -= size;
        Transmit(c, side, std::move(msg), size);
      }
    }
  }
}

int64_t Network::AddDelay(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b,
                          DurationNs extra_latency_ns, DurationNs extra_jitter_ns) {
  Delay d{{side_a.begin(), side_a.end()}, {side_b.begin(), side_b.end()}, extra_latency_ns,
          extra_jitter_ns};
  delays_[next_delay_] = std::move(d);
  return next_delay_++;
}

void Network::RemoveDelay(int64_t handle) { delays_.erase(handle); }

void Network::ThrottleNic(NodeId node, double factor) {
  KSIM_CHECK(factor > 0);
  NodeNet& n = nodes_.at(node);
  AdvanceInbound(n, kernel_.Now());  // the backlog so far drained at the old bandwidth
  n.throttle = factor;
}

}  // namespace ksim
