// The simulation kernel: virtual clock, event queue, fiber scheduler, nodes and crashes.
//
// One kernel per OS thread. Fibers are Boost.Fiber fibers scheduled by a custom algorithm that,
// whenever no fiber is runnable, pops the next event from the queue and jumps the virtual clock
// to it. Nothing ever waits in real time. Events at the same virtual time run in the order they
// were scheduled (a sequence number breaks ties), so a run is a pure function of its seed.
//
// A node is a simulated machine. It owns fibers and volatile state. Crash(node) makes every
// fiber of the node throw FiberKilled at its next blocking point (waking the parked ones),
// and destroys the node's state once they have all unwound. Restart(node) runs its boot
// function again; whatever it recovers must come from its disk.
#ifndef KSIM_SIM_KERNEL_KERNEL_H_
#define KSIM_SIM_KERNEL_KERNEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/rng.h"
#include "engine/runtime/scheduler.h"
#include "engine/runtime/virtual_time.h"
#include "sim/kernel/event_queue.h"
#include "sim/kernel/trace.h"

namespace ksim {

class SimAlgorithm;

struct KernelOptions {
  uint64_t seed = 1;
  // Stack of every fiber. 64 KiB keeps allocations below glibc's mmap threshold, so 100,000
  // fibers do not exhaust the process's mapping limit; only touched pages cost memory.
  size_t fiber_stack_bytes = 64 * 1024;
  // Readable trace events kept for failure reports.
  size_t trace_window_events = 256;
};

class Kernel final : public Scheduler {
 public:
  using Callback = std::function<void()>;

  explicit Kernel(KernelOptions options = {});
  // Kills every remaining fiber and lets them unwind. REQUIRES: called from the main context.
  ~Kernel() override;
  // The destructor's first half: kills and unwinds every fiber now, so that objects the fibers
  // use can be destroyed safely afterwards. Idempotent; the kernel accepts no work after it.
  void Shutdown();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  uint64_t seed() const { return options_.seed; }

  // --- Scheduler -------------------------------------------------------------------------------
  TimeNs Now() const override { return now_; }
  WaitTicket Arm() override;
  WakeReason Park(TimeNs deadline) override;
  bool Wake(WaitTicket ticket) override;
  bool IsCurrent(WaitTicket ticket) const override;
  // Arm and Park in one step: the hot path of every timed sleep.
  void SleepUntil(TimeNs t) override;

  // --- Events ----------------------------------------------------------------------------------
  // Runs `cb` at virtual time `t` (not before now) in scheduler context: it must not block.
  void At(TimeNs t, Callback cb);
  void After(DurationNs d, Callback cb) { At(DeadlineAfter(now_, d), std::move(cb)); }

  // --- Fibers ----------------------------------------------------------------------------------
  // Starts a fiber owned by `node` (kNoNode: owned by the simulator itself, e.g. a workload
  // driver or the nemesis; such fibers die only when the kernel is destroyed).
  // REQUIRES: the node is up.
  void Spawn(NodeId node, std::string_view name, std::function<void()> fn);
  // The node owning the running fiber (kNoNode in main, callbacks and simulator fibers).
  NodeId CurrentNode() const;
  std::string_view CurrentFiberName() const;
  size_t live_fibers() const { return live_fibers_; }

  // --- Nodes -----------------------------------------------------------------------------------
  // Registers a node; it is down until Start(). `boot` runs in a fresh fiber of the node at
  // every Start/Restart.
  NodeId AddNode(std::string name, std::function<void()> boot);
  void Start(NodeId node);
  // Kills all fibers of `node` at their next blocking point and destroys its state once they
  // have unwound. Crash listeners run immediately (the network resets connections, ...).
  void Crash(NodeId node);
  // Boots a crashed node again. REQUIRES: down.
  void Restart(NodeId node);
  bool IsUp(NodeId node) const;
  // Incremented at every Start/Restart; lets callbacks detect that their node died meanwhile.
  uint64_t Incarnation(NodeId node) const;
  const std::string& NodeName(NodeId node) const;
  size_t node_count() const { return nodes_.size(); }
  // Keeps `state` alive while the node is up; dropped after a crash once its fibers unwound.
  void SetNodeState(NodeId node, std::shared_ptr<void> state);
  // Called with the node id whenever a node crashes, in registration order.
  void OnCrash(std::function<void(NodeId)> listener);

  // --- Running ---------------------------------------------------------------------------------
  // Runs fibers and events until virtual time `until`, until nothing is left to do, or until
  // Stop(). Afterwards Now() == until if the run reached it. REQUIRES: main context.
  void RunUntil(TimeNs until);
  void RunFor(DurationNs d) { RunUntil(DeadlineAfter(now_, d)); }
  // Makes RunUntil return at the next scheduling point.
  void Stop() { stop_requested_ = true; }

  // --- Determinism -----------------------------------------------------------------------------
  // The random stream `name`, derived from the seed and the name only.
  Rng Stream(std::string_view name) const { return Rng::Stream(options_.seed, name); }
  TraceRecorder& trace() { return trace_; }
  // Records a readable trace event at the current time.
  void Trace(NodeId node, std::string_view kind, std::string_view detail) {
    trace_.Record(now_, node, kind, detail);
  }
  uint64_t events_processed() const { return events_processed_; }
  std::string Describe() const;

  // --- Used by the scheduling algorithm --------------------------------------------------------
  // Runs due events until some fiber is runnable or the run must return to main.
  void RunEventsUntilRunnable();

 private:
  struct FiberRec;
  struct Node;
  struct QueuedEvent {
    TimeNs time;
    uint64_t gen;       // wait generation for fiber wake-ups
    uint32_t slot;      // fiber slot for wake-ups
    uint32_t callback;  // index into callbacks_, or kNoCallback for a timed wake-up
  };
  static constexpr uint32_t kNoCallback = 0xffffffffu;
  static constexpr uint32_t kMainSlot = 0;

  static constexpr uint32_t kChunkBits = 10;
  FiberRec& Rec(uint32_t slot) const;
  uint32_t NewSlot();
  FiberRec& CurrentRec() const;
  void MakeRunnable(FiberRec& f);
  void FiberMain(uint32_t slot, std::function<void()>& fn);
  void FiberExited(uint32_t slot);
  void KillFiber(FiberRec& f);
  void WakeMain();
  bool MainShouldWake() const;

  KernelOptions options_;
  SimAlgorithm* algo_ = nullptr;
  TimeNs now_ = 0;
  TimeNs until_ = 0;
  uint64_t next_gen_ = 0;
  uint64_t events_processed_ = 0;
  bool stop_requested_ = false;
  bool draining_ = false;
  bool in_callback_ = false;
  bool in_run_ = false;  // main is parked in RunUntil (or the destructor's drain)
  size_t live_fibers_ = 0;
  mutable RadixEventQueue<QueuedEvent> queue_;  // MinTime() may reorganise it
  std::vector<Callback> callbacks_;
  std::vector<uint32_t> free_callbacks_;
  std::vector<std::unique_ptr<FiberRec[]>> fiber_chunks_;
  uint32_t fiber_count_ = 0;
  std::vector<uint32_t> free_slots_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::function<void(NodeId)>> crash_listeners_;
  TraceRecorder trace_;
};

}  // namespace ksim

#endif  // KSIM_SIM_KERNEL_KERNEL_H_
