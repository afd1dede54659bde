// The runtime door: the only way engine code (brokers, controller, clients) reaches time,
// network, disk, randomness and fibers. Engine code gets a Runtime& for its node and never
// includes anything from sim/. The simulator implements this interface (sim/host); the same
// engine code would run unchanged on any other implementation (LevelDB's Env, FoundationDB's
// INetwork).
//
// Blocking calls block only the calling fiber, in virtual time. When the node crashes, every
// blocking call of its fibers throws FiberKilled (see scheduler.h).
#ifndef KSIM_ENGINE_RUNTIME_RUNTIME_H_
#define KSIM_ENGINE_RUNTIME_RUNTIME_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/runtime/rng.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

// Anything carried by the network or stored on disk. Messages are passed as objects with a
// declared size: bandwidth and storage are modelled without serialising. Payloads are
// immutable once sent or written; receivers and readers share them.
class Payload {
 public:
  virtual ~Payload() = default;
};
using PayloadPtr = std::shared_ptr<const Payload>;

// --- Network ---------------------------------------------------------------------------------

// One end of a TCP-like connection: ordered and reliable while it is up. A partition stalls
// delivery (nothing is lost until the connection is closed); a crash of the peer resets it.
class Connection {
 public:
  virtual ~Connection() = default;  // closes the connection
  virtual NodeId peer() const = 0;
  // Queues `msg` of `size_bytes` on the wire. Never blocks. Fails with Unavailable if the
  // connection has been closed or reset.
  virtual absl::Status Send(PayloadPtr msg, int64_t size_bytes) = 0;
  // Blocks until everything sent so far has left this machine's NIC (the socket's send buffer
  // is empty), or `deadline` (DeadlineExceeded), or the connection breaks (Unavailable). A
  // sender that expects no reply (acks=0) uses it so it cannot outrun its network.
  virtual absl::Status WaitSent(TimeNs deadline) = 0;
  // Blocks until a message arrives (OK), `deadline` passes (DeadlineExceeded), or the
  // connection is closed or reset and nothing is left to read (Unavailable).
  virtual absl::StatusOr<PayloadPtr> Receive(TimeNs deadline) = 0;
  // Closes both directions; the peer sees Unavailable once queued messages are drained.
  virtual void Close() = 0;
  virtual bool is_open() const = 0;
};

// --- Disk ------------------------------------------------------------------------------------

// A piece of a file: `size_bytes` on disk, with an optional in-memory object that stands for
// the bytes (a record batch, a checkpoint). `torn` marks a chunk cut short by a power failure
// in the middle of its write: only a prefix of it reached the disk.
struct Chunk {
  int64_t size_bytes = 0;
  PayloadPtr content;
  bool torn = false;
};

// The node's local file system, behind an OS page cache. Paths are plain strings; directories
// are implied by '/' in names. Writes land in the page cache (cheap, survive a process crash)
// and reach the device by a background flush or Fsync (only synced data survives power loss).
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Appends a chunk, creating the file if needed. Blocks for the page-cache copy.
  virtual absl::Status Append(std::string_view path, Chunk chunk) = 0;
  // Returns the chunks overlapping [offset, offset + length), whole. Blocks for the read
  // (memory speed on a page-cache hit, device latency and bandwidth on a miss).
  virtual absl::StatusOr<std::vector<Chunk>> Read(std::string_view path, int64_t offset,
                                                  int64_t length) = 0;
  // Every chunk of the file, in order (recovery scans).
  virtual absl::StatusOr<std::vector<Chunk>> ReadAll(std::string_view path) = 0;
  // Blocks until the file's data is on the device.
  virtual absl::Status Fsync(std::string_view path) = 0;
  // Cuts the file to `size_bytes`, which must fall on a chunk boundary.
  virtual absl::Status Truncate(std::string_view path, int64_t size_bytes) = 0;
  // Replaces the whole file with one chunk, durably (write temp, fsync, rename): checkpoints.
  virtual absl::Status WriteAtomically(std::string_view path, Chunk chunk) = 0;
  virtual absl::Status Delete(std::string_view path) = 0;
  virtual absl::StatusOr<int64_t> Size(std::string_view path) const = 0;
  virtual bool Exists(std::string_view path) const = 0;
  // Paths starting with `prefix`, sorted.
  virtual std::vector<std::string> List(std::string_view prefix) const = 0;
};

// --- The door --------------------------------------------------------------------------------

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual NodeId node() const = 0;
  virtual const std::string& node_name() const = 0;

  // Time.
  virtual TimeNs Now() const = 0;
  virtual void Sleep(DurationNs d) = 0;
  virtual void SleepUntil(TimeNs t) = 0;

  // Starts a fiber owned by this node; it dies with the node.
  virtual void Spawn(std::string_view name, std::function<void()> fn) = 0;

  // Network. Connect blocks for the handshake (one round trip). Fails with Unavailable if the
  // peer is down (connection refused) and DeadlineExceeded if it cannot be reached in time.
  virtual absl::StatusOr<std::unique_ptr<Connection>> Connect(NodeId peer, TimeNs deadline) = 0;
  // Blocks until a peer connects to this node or the deadline passes.
  virtual absl::StatusOr<std::unique_ptr<Connection>> Accept(TimeNs deadline) = 0;
  // Finds a node by name ("broker-2"); kNoNode if there is none.
  virtual NodeId Lookup(std::string_view name) const = 0;

  // Disk.
  virtual FileSystem& fs() = 0;

  // CPU: blocks the calling fiber while `cpu` of work runs on one of the node's cores
  // (queueing when all cores are busy). Without a cost model this is a plain sleep.
  virtual void Compute(DurationNs cpu) = 0;

  // Randomness: the stream `component` of this node, stable across runs with one seed.
  virtual Rng NewRng(std::string_view component) const = 0;

  // Tracing: a readable event in the run's trace (folded into the trace hash).
  virtual void Trace(std::string_view kind, std::string_view detail) = 0;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_RUNTIME_RUNTIME_H_
