#include "sim/kernel/kernel.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/all.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/properties.hpp>
#include <boost/fiber/scheduler.hpp>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/runtime/check.h"

namespace ksim {

namespace bf = boost::fibers;

// The Boost.Fiber scheduling algorithm: a FIFO ready queue, and when it runs dry the kernel's
// event queue supplies the next runnable fiber by advancing virtual time. Installed once per OS
// thread; a kernel attaches itself for its lifetime.
class SimAlgorithm final : public bf::algo::algorithm {
 public:
  void awakened(bf::context* ctx) noexcept override { ctx->ready_link(rq_); }

  bf::context* pick_next() noexcept override {
    if (kernel != nullptr) {
      if (rq_.empty()) {
        // Only the dispatcher gets here (Boost keeps it queued otherwise).
        kernel->RunEventsUntilRunnable();
      } else if (OnlyDispatcherQueued()) {
        // A fiber blocked and only the dispatcher is queued: run events from here and switch
        // straight to the woken fiber, saving a round trip through the dispatcher. The
        // dispatcher stays queued, behind it, as Boost requires.
        bf::context* dispatcher = &rq_.front();
        rq_.pop_front();
        kernel->RunEventsUntilRunnable();
        dispatcher->ready_link(rq_);
        if (rq_.front().is_context(bf::type::dispatcher_context) == false &&
            &rq_.front() != bf::context::active()) {
          bf::context* ctx = &rq_.front();
          rq_.pop_front();
          return ctx;
        }
        // Rotate so the dispatcher runs next and resumes whatever is queued.
        while (!rq_.front().is_context(bf::type::dispatcher_context)) {
          bf::context* c = &rq_.front();
          rq_.pop_front();
          c->ready_link(rq_);
        }
      }
    }
    if (rq_.empty()) return nullptr;
    bf::context* ctx = &rq_.front();
    // A context cannot resume itself: let the dispatcher hand control back to it.
    if (ctx == bf::context::active()) return nullptr;
    rq_.pop_front();
    return ctx;
  }

  bool has_ready_fibers() const noexcept override { return !rq_.empty(); }

  // Called by Boost.Fiber only when nothing is runnable and nothing is scheduled: a deadlock of
  // the simulation (or fibers left behind at thread exit). Never waits in real time.
  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override {  // wall-clock ok: Boost.Fiber's signature; never waits
    std::fprintf(stderr,
                 "ksim: scheduler deadlock: no runnable fiber and no pending event%s\n",
                 kernel != nullptr ? (" [" + kernel->Describe() + "]").c_str() : "");
    std::abort();
  }

  void notify() noexcept override {}

  Kernel* kernel = nullptr;

 private:
  bool OnlyDispatcherQueued() const {
    return rq_.front().is_context(bf::type::dispatcher_context) && ++rq_.begin() == rq_.end();
  }

  bf::scheduler::ready_queue_type rq_{};
};

namespace {

thread_local SimAlgorithm* thread_algorithm = nullptr;

SimAlgorithm* InstallAlgorithm() {
  if (thread_algorithm == nullptr) {
    auto* algo = new SimAlgorithm();
    bf::context::active()->get_scheduler()->set_algo(bf::algo::algorithm::ptr_t(algo));
    thread_algorithm = algo;
  }
  return thread_algorithm;
}

// Tags a Boost.Fiber context with its kernel slot.
struct SlotProps final : bf::fiber_properties {
  SlotProps(bf::context* ctx, uint32_t s) : bf::fiber_properties(ctx), slot(s) {}
  uint32_t slot;
};

std::string DescribeKernel(void* k) { return static_cast<Kernel*>(k)->Describe(); }

}  // namespace

struct Kernel::FiberRec {
  uint32_t slot = 0;
  NodeId node = kNoNode;
  uint64_t incarnation = 0;
  std::string name;
  uint64_t gen = 0;
  bool armed = false;
  bool parked = false;
  bool killed = false;
  bool in_use = false;
  WakeReason reason = WakeReason::kWoken;
  bf::context* ctx = nullptr;
};

struct Kernel::Node {
  std::string name;
  std::function<void()> boot;
  bool up = false;
  uint64_t incarnation = 0;
  absl::btree_set<uint32_t> fibers;  // fibers of the current incarnation
  std::shared_ptr<void> state;
  struct Dying {
    size_t fibers = 0;
    std::shared_ptr<void> state;
  };
  absl::btree_map<uint64_t, Dying> dying;  // by incarnation
};

inline Kernel::FiberRec& Kernel::Rec(uint32_t slot) const {
  return fiber_chunks_[slot >> kChunkBits][slot & ((1u << kChunkBits) - 1)];
}

Kernel::Kernel(KernelOptions options) : options_(options), trace_(options.trace_window_events) {
  KSIM_CHECK_MSG(thread_algorithm == nullptr || thread_algorithm->kernel == nullptr,
                 "one simulation kernel per OS thread");
  algo_ = InstallAlgorithm();
  algo_->kernel = this;
  Scheduler::SetCurrent(this);
  SetFailureContext(&DescribeKernel, this);
  uint32_t main = NewSlot();
  KSIM_CHECK(main == kMainSlot);
  Rec(main).name = "main";
  Rec(main).in_use = true;
}

void Kernel::Shutdown() {
  // Unwind every fiber still alive, so that no stack outlives the objects it uses.
  draining_ = true;
  for (uint32_t slot = kMainSlot + 1; slot < fiber_count_; ++slot) {
    if (Rec(slot).in_use) KillFiber(Rec(slot));
  }
  if (live_fibers_ > 0) {
    until_ = kForever;
    stop_requested_ = false;
    in_run_ = true;
    Arm();
    Park(kForever);
    in_run_ = false;
  }
  KSIM_CHECK(live_fibers_ == 0);
}

Kernel::~Kernel() {
  Shutdown();
  queue_.Clear();
  callbacks_.clear();
  for (auto& n : nodes_) {
    n->state.reset();
    n->dying.clear();
  }
  algo_->kernel = nullptr;
  Scheduler::SetCurrent(nullptr);
  SetFailureContext(nullptr, nullptr);
}

uint32_t Kernel::NewSlot() {
  // Records live in chunks so that they stay put and sit together in memory (the hot path
  // reads one per wake-up), instead of being scattered between 64 KiB fiber stacks.
  uint32_t slot = fiber_count_++;
  if ((slot >> kChunkBits) >= fiber_chunks_.size()) {
    fiber_chunks_.push_back(std::make_unique<FiberRec[]>(size_t{1} << kChunkBits));
  }
  Rec(slot).slot = slot;
  return slot;
}

Kernel::FiberRec& Kernel::CurrentRec() const {
  bf::fiber_properties* p = bf::context::active()->get_properties();
  uint32_t slot = p == nullptr ? kMainSlot : static_cast<SlotProps*>(p)->slot;
  return Rec(slot);
}

WaitTicket Kernel::Arm() {
  KSIM_CHECK_MSG(!in_callback_, "event callbacks must not block");
  FiberRec& f = CurrentRec();
  KSIM_CHECK(!f.parked);
  f.gen = ++next_gen_;
  f.armed = true;
  return WaitTicket{f.slot, f.gen};
}

WakeReason Kernel::Park(TimeNs deadline) {
  KSIM_CHECK_MSG(!in_callback_, "event callbacks must not block");
  FiberRec& f = CurrentRec();
  KSIM_CHECK_MSG(f.armed, "Park() without Arm()");
  f.armed = false;
  if (f.killed) throw FiberKilled{};
  if (deadline != kForever) {
    queue_.Push(QueuedEvent{std::max(deadline, now_), f.gen, f.slot, kNoCallback});
  }
  f.parked = true;
  f.ctx = bf::context::active();
  f.ctx->suspend();
  KSIM_CHECK(!f.parked);
  if (f.killed) throw FiberKilled{};
  return f.reason;
}

void Kernel::SleepUntil(TimeNs t) {
  KSIM_CHECK_MSG(!in_callback_, "event callbacks must not block");
  FiberRec& f = CurrentRec();
  KSIM_CHECK(!f.parked);
  if (f.killed) throw FiberKilled{};
  f.gen = ++next_gen_;
  if (t != kForever) queue_.Push(QueuedEvent{std::max(t, now_), f.gen, f.slot, kNoCallback});
  f.parked = true;
  f.ctx = bf::context::active();
  f.ctx->suspend();
  KSIM_CHECK(!f.parked);
  if (f.killed) throw FiberKilled{};
}

bool Kernel::Wake(WaitTicket ticket) {
  KSIM_CHECK(ticket.slot < fiber_count_);
  FiberRec& f = Rec(ticket.slot);
  if (!f.parked || f.gen != ticket.gen) return false;
  f.reason = WakeReason::kWoken;
  MakeRunnable(f);
  return true;
}

bool Kernel::IsCurrent(WaitTicket ticket) const {
  KSIM_CHECK(ticket.slot < fiber_count_);
  const FiberRec& f = Rec(ticket.slot);
  return f.gen == ticket.gen && (f.armed || f.parked);
}

void Kernel::MakeRunnable(FiberRec& f) {
  KSIM_CHECK(f.parked);
  f.parked = false;
  algo_->awakened(f.ctx);
}

void Kernel::At(TimeNs t, Callback cb) {
  uint32_t idx;
  if (!free_callbacks_.empty()) {
    idx = free_callbacks_.back();
    free_callbacks_.pop_back();
    callbacks_[idx] = std::move(cb);
  } else {
    idx = static_cast<uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(cb));
  }
  queue_.Push(QueuedEvent{std::max(t, now_), 0, 0, idx});
}

bool Kernel::MainShouldWake() const {
  const FiberRec& main = Rec(kMainSlot);
  if (!main.parked || !in_run_) return false;
  if (draining_) return live_fibers_ == 0;
  return stop_requested_ || queue_.empty() || queue_.MinTime() > until_;
}

void Kernel::WakeMain() {
  FiberRec& main = Rec(kMainSlot);
  if (!draining_ && !stop_requested_ && until_ != kForever) now_ = std::max(now_, until_);
  main.reason = WakeReason::kWoken;
  MakeRunnable(main);
}

void Kernel::RunEventsUntilRunnable() {
  while (!algo_->has_ready_fibers()) {
    if (MainShouldWake()) {
      WakeMain();
      return;
    }
    if (queue_.empty()) return;  // deadlock: reported by the algorithm
    QueuedEvent ev = queue_.Pop();
    KSIM_CHECK(ev.time >= now_);
    now_ = ev.time;
    ++events_processed_;
    trace_.FoldFast(static_cast<uint64_t>(ev.time) + ev.slot);
    if (ev.callback == kNoCallback) {
      FiberRec& f = Rec(ev.slot);
      if (f.parked && f.gen == ev.gen) {
        f.reason = WakeReason::kTimedOut;
        MakeRunnable(f);
      }
      continue;
    }
    Callback cb = std::move(callbacks_[ev.callback]);
    callbacks_[ev.callback] = nullptr;
    free_callbacks_.push_back(ev.callback);
    in_callback_ = true;
    cb();
    in_callback_ = false;
  }
}

void Kernel::RunUntil(TimeNs until) {
  KSIM_CHECK_MSG(bf::context::active()->get_properties() == nullptr,
                 "RunUntil must be called from the main context");
  KSIM_CHECK(until >= now_);
  until_ = until;
  stop_requested_ = false;
  in_run_ = true;
  Arm();
  Park(kForever);
  in_run_ = false;
  stop_requested_ = false;
}

void Kernel::Spawn(NodeId node, std::string_view name, std::function<void()> fn) {
  uint64_t incarnation = 0;
  if (node != kNoNode) {
    KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
    KSIM_CHECK_MSG(nodes_[node]->up, "spawn on a node that is down: " + nodes_[node]->name);
    incarnation = nodes_[node]->incarnation;
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = NewSlot();
  }
  FiberRec& f = Rec(slot);
  f = FiberRec{};
  f.slot = slot;
  f.node = node;
  f.incarnation = incarnation;
  f.name = std::string(name);
  f.in_use = true;
  ++live_fibers_;
  if (node != kNoNode) nodes_[node]->fibers.insert(slot);
  bf::fiber(std::allocator_arg, bf::fixedsize_stack(options_.fiber_stack_bytes),
            [this, slot, fn = std::move(fn)]() mutable { FiberMain(slot, fn); })
      .detach();
}

void Kernel::FiberMain(uint32_t slot, std::function<void()>& fn) {
  bf::context* ctx = bf::context::active();
  ctx->set_properties(new SlotProps(ctx, slot));
  try {
    if (!Rec(slot).killed) fn();
  } catch (const FiberKilled&) {
    // The node crashed: the stack has unwound, which is all a crash needs.
  } catch (const std::exception& e) {
    CheckFailed(__FILE__, __LINE__, "uncaught exception in fiber",
                Rec(slot).name + ": " + e.what());
  }
  fn = nullptr;  // drop captured state while still inside the simulation
  FiberExited(slot);
}

void Kernel::FiberExited(uint32_t slot) {
  FiberRec& f = Rec(slot);
  KSIM_CHECK(f.in_use);
  if (f.node != kNoNode) {
    Node& n = *nodes_[f.node];
    if (f.incarnation == n.incarnation && n.fibers.erase(slot) == 1) {
      // A fiber of the live incarnation finished normally.
    } else {
      auto it = n.dying.find(f.incarnation);
      KSIM_CHECK(it != n.dying.end() && it->second.fibers > 0);
      if (--it->second.fibers == 0) {
        // Destroy the dead incarnation's state off this fiber's stack.
        std::shared_ptr<void> state = std::move(it->second.state);
        n.dying.erase(it);
        if (state) At(now_, [s = std::move(state)]() {});
      }
    }
  }
  f.in_use = false;
  f.killed = true;
  f.gen = ++next_gen_;
  --live_fibers_;
  free_slots_.push_back(slot);
}

void Kernel::KillFiber(FiberRec& f) {
  f.killed = true;
  if (f.parked) MakeRunnable(f);
}

NodeId Kernel::CurrentNode() const {
  if (in_callback_) return kNoNode;
  return CurrentRec().node;
}

std::string_view Kernel::CurrentFiberName() const {
  if (in_callback_) return "callback";
  return CurrentRec().name;
}

NodeId Kernel::AddNode(std::string name, std::function<void()> boot) {
  auto n = std::make_unique<Node>();
  n->name = std::move(name);
  n->boot = std::move(boot);
  nodes_.push_back(std::move(n));
  return static_cast<NodeId>(nodes_.size() - 1);
}

void Kernel::Start(NodeId node) {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  Node& n = *nodes_[node];
  KSIM_CHECK_MSG(!n.up, "start of a node that is up: " + n.name);
  n.up = true;
  ++n.incarnation;
  Trace(node, n.incarnation == 1 ? "start" : "restart", n.name);
  if (n.boot) Spawn(node, "boot", n.boot);
}

void Kernel::Restart(NodeId node) { Start(node); }

void Kernel::Crash(NodeId node) {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  Node& n = *nodes_[node];
  KSIM_CHECK_MSG(n.up, "crash of a node that is down: " + n.name);
  n.up = false;
  Trace(node, "crash", n.name);
  Node::Dying& d = n.dying[n.incarnation];
  d.fibers = n.fibers.size();
  d.state = std::move(n.state);
  absl::btree_set<uint32_t> victims;
  victims.swap(n.fibers);
  for (uint32_t slot : victims) KillFiber(Rec(slot));
  if (d.fibers == 0) {
    std::shared_ptr<void> state = std::move(d.state);
    n.dying.erase(n.incarnation);
    if (state) At(now_, [s = std::move(state)]() {});
  }
  for (auto& listener : crash_listeners_) listener(node);
}

bool Kernel::IsUp(NodeId node) const {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  return nodes_[node]->up;
}

uint64_t Kernel::Incarnation(NodeId node) const {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  return nodes_[node]->incarnation;
}

const std::string& Kernel::NodeName(NodeId node) const {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  return nodes_[node]->name;
}

void Kernel::SetNodeState(NodeId node, std::shared_ptr<void> state) {
  KSIM_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size());
  KSIM_CHECK(nodes_[node]->up);
  nodes_[node]->state = std::move(state);
}

void Kernel::OnCrash(std::function<void(NodeId)> listener) {
  crash_listeners_.push_back(std::move(listener));
}

std::string Kernel::Describe() const {
  std::string where = absl::StrFormat("t=%s seed=%d", FormatTime(now_), options_.seed);
  if (!in_callback_) {
    const FiberRec& f = CurrentRec();
    if (f.node != kNoNode) absl::StrAppend(&where, " node=", nodes_[f.node]->name);
    absl::StrAppend(&where, " fiber=", f.name);
  }
  return where;
}

}  // namespace ksim
