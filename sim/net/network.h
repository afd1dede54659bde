// The simulated network: TCP-like connections between nodes, ordered and reliable while up.
//
// A message of S bytes goes onto the sender's outbound link after the messages queued before
// it, for S * 8 / out_bits_per_second, and its bytes reach the receiver one link delay
// (latency plus jitter) after they leave: cut-through, as a switched LAN carries TCP, so an
// uncontended message is in after wire time + delay, not serialised a second time. The
// receiver's inbound link takes at most in_bits_per_second: bytes arriving faster (several
// senders converging, or a faster sender) queue in front of it, first in first out, as in a
// switch port, and a message is in when its last byte has left that queue. Per connection,
// delivery order is send order. Partitions block directions: messages sent into a blocked direction wait and resume
// when it heals (TCP retransmits; nothing is lost while the connection stays open). A crashed
// node's connections are reset: its peers see Unavailable once the reset reaches them.
#ifndef KSIM_SIM_NET_NETWORK_H_
#define KSIM_SIM_NET_NETWORK_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "engine/runtime/runtime.h"
#include "engine/runtime/sync.h"
#include "sim/kernel/kernel.h"

namespace ksim {

struct NicProfile {
  int64_t out_bits_per_second = 1'000'000'000;
  int64_t in_bits_per_second = 1'000'000'000;
};

struct LinkProfile {
  enum class Distribution { kConstant, kUniform, kNormal, kExponential };
  DurationNs latency_ns = 500 * kMicrosecond;  // one way
  DurationNs jitter_ns = 0;  // uniform: +-jitter/2..; normal: stddev; exponential: mean
  Distribution distribution = Distribution::kUniform;
};

struct NetStats {
  int64_t messages_sent = 0;
  int64_t bytes_sent = 0;
  int64_t messages_delivered = 0;
  int64_t bytes_delivered = 0;
};

class Network {
 public:
  explicit Network(Kernel& kernel);
  ~Network();

  void AddNode(NodeId node, NicProfile nic);
  void SetDefaultLink(LinkProfile link) { default_link_ = link; }
  void SetLink(NodeId a, NodeId b, LinkProfile link);

  // Opens a connection from `from` to `to`, blocking the calling fiber for the handshake.
  absl::StatusOr<std::unique_ptr<Connection>> Connect(NodeId from, NodeId to, TimeNs deadline);
  // The server end of the next connection made to `at`.
  absl::StatusOr<std::unique_ptr<Connection>> Accept(NodeId at, TimeNs deadline);

  // Faults.
  void Partition(NodeId a, NodeId b);         // both directions
  void PartitionOneWay(NodeId from, NodeId to);
  void Isolate(NodeId node);                  // from every other node
  void Heal(NodeId a, NodeId b);              // both directions
  void HealAll();
  // Extra latency (and jitter) between two sets of nodes, both directions. Returns a handle.
  int64_t AddDelay(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b,
                   DurationNs extra_latency_ns, DurationNs extra_jitter_ns);
  void RemoveDelay(int64_t handle);
  // Bandwidth factor for a node's NIC, both ways (1 = normal, 0.1 = a tenth).
  void ThrottleNic(NodeId node, double factor);

  bool Blocked(NodeId from, NodeId to) const;
  // After the kernel is gone: connection ends destroyed later do nothing.
  void Shutdown() { shut_down_ = true; }
  // One-way delay a message would get now (latency + extra + one jitter draw).
  DurationNs DrawDelay(NodeId from, NodeId to);
  const NetStats& stats(NodeId node) const { return nodes_.at(node).stats; }

 private:
  friend class NetEndpoint;
  struct Direction {
    std::deque<PayloadPtr> inbox;        // delivered, not yet received
    WaitList waiters;
    std::deque<std::pair<PayloadPtr, int64_t>> held;  // stalled by a partition
    TimeNs last_first_byte = 0;  // when the last message sent starts reaching the receiver
    TimeNs last_last_byte = 0;   // and when its last byte does
    TimeNs last_delivery = 0;    // when the last message that arrived is delivered
    int pending_deliveries = 0;  // delivery events scheduled, not yet run
    bool reset = false;        // the connection was reset: the receiver sees Unavailable
    bool fin = false;          // the sender closed: the receiver sees Unavailable when drained
    bool pending_reset = false;  // a reset waiting for a blocked path to heal
  };
  struct Conn {
    uint64_t id = 0;
    NodeId node[2];
    uint64_t incarnation[2];
    Direction to[2];  // to[i]: messages travelling towards node[i]
    bool closed = false;
  };
  struct NodeNet {
    NicProfile nic;
    double throttle = 1.0;
    TimeNs out_free = 0;  // the outbound link has sent every message queued on it
    // The inbound link as a fluid FIFO queue: the summed arrival rate of the messages
    // arriving (bytes/s; changes at their first and last bytes, applied in time order) and
    // the bytes arrived but not yet taken, as of in_updated.
    std::map<TimeNs, int64_t> in_rate_changes;
    int64_t in_rate = 0;
    double in_backlog_bytes = 0;
    TimeNs in_updated = 0;
    std::deque<std::unique_ptr<Connection>> backlog;
    WaitList accept_waiters;
    NetStats stats;
  };
  struct Delay {
    std::set<NodeId> a, b;
    DurationNs extra_latency_ns;
    DurationNs extra_jitter_ns;
  };

  // Returns when the message leaves the sender's NIC (kForever while a partition holds it).
  TimeNs Transmit(const std::shared_ptr<Conn>& c, int side_to, PayloadPtr msg, int64_t size_bytes);
  // The message's last byte reaches the receiver's link: delivers it once the link has taken
  // it. `impulse`: all its bytes arrive at once (no wire time), so they join the queue now.
  void Arrived(const std::shared_ptr<Conn>& c, int side_to, uint64_t incarnation, bool impulse,
               PayloadPtr msg, int64_t size_bytes);
  // Brings a node's inbound queue to time `t` (>= its last update).
  static void AdvanceInbound(NodeNet& n, TimeNs t);
  static double InboundBytesPerNs(const NodeNet& n);
  // Time to put `bytes` through a link of `bits_per_second` slowed by `factor`.
  static DurationNs WireNs(int64_t bytes, int64_t bits_per_second, double factor);
  void SendReset(const std::shared_ptr<Conn>& c, int side_to);
  void SendFin(const std::shared_ptr<Conn>& c, int side_to);
  void OnCrash(NodeId node);
  void Unblocked();
  DurationNs Jitter(const LinkProfile& l, DurationNs extra_jitter);
  const LinkProfile& LinkOf(NodeId a, NodeId b) const;

  Kernel& kernel_;
  Rng rng_;
  LinkProfile default_link_;
  std::map<std::pair<NodeId, NodeId>, LinkProfile> links_;
  std::map<NodeId, NodeNet> nodes_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<int64_t, Delay> delays_;
  int64_t next_delay_ = 0;
  uint64_t next_conn_ = 0;
  std::map<uint64_t, std::weak_ptr<Conn>> conns_;
  bool shut_down_ = false;
};

}  // namespace ksim

#endif  // KSIM_SIM_NET_NETWORK_H_
