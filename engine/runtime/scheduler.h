// The fiber scheduler as engine code sees it: virtual time, blocking and waking.
//
// Engine code never touches Boost.Fiber or real clocks. It blocks a fiber with Arm() + Park()
// and wakes it with Wake(). The simulator's kernel implements this interface; time only moves
// when every fiber is blocked, so a Park() never waits in real time.
#ifndef KSIM_ENGINE_RUNTIME_SCHEDULER_H_
#define KSIM_ENGINE_RUNTIME_SCHEDULER_H_

#include <cstdint>

#include "engine/runtime/virtual_time.h"

namespace ksim {

// Thrown out of a blocking call when the calling fiber's node has crashed, to unwind the fiber's
// stack. Engine code must let it propagate: never catch (...) without rethrowing.
struct FiberKilled {};

// Identifies one wait of one fiber. A ticket goes stale once the fiber has been woken, timed out
// or killed; waking a stale ticket does nothing.
struct WaitTicket {
  uint32_t slot = 0;
  uint64_t gen = 0;
};

enum class WakeReason { kWoken, kTimedOut };

// Identifies a simulated machine (broker, metadata node, client host).
using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

class Scheduler {
 public:
  // The scheduler of the simulation running on this OS thread.
  // REQUIRES: a simulation (kernel) exists on this thread.
  static Scheduler& Current();
  // nullptr outside a simulation (e.g. objects destroyed after the kernel).
  static Scheduler* CurrentOrNull();

  virtual TimeNs Now() const = 0;

  // Starts a wait of the calling fiber and returns its ticket. The caller stores the ticket where
  // a waker can find it, then calls Park() without blocking in between.
  virtual WaitTicket Arm() = 0;

  // Blocks the calling fiber until its armed ticket is woken or virtual time reaches `deadline`
  // (kForever: no timeout). Throws FiberKilled if the fiber's node crashed.
  virtual WakeReason Park(TimeNs deadline) = 0;

  // Wakes the fiber waiting on `ticket` if that wait is still current. Never blocks; callable
  // from fibers and from event callbacks. Returns whether a fiber was woken.
  virtual bool Wake(WaitTicket ticket) = 0;

  // Whether `ticket` is still current (armed or parked, not yet woken, timed out or killed):
  // lets wait lists drop stale tickets without waking anybody.
  virtual bool IsCurrent(WaitTicket ticket) const = 0;

  // Blocks the calling fiber until virtual time `t` (Arm + Park; kernels may do it in one step).
  virtual void SleepUntil(TimeNs t);

 protected:
  Scheduler() = default;
  virtual ~Scheduler() = default;
  static void SetCurrent(Scheduler* s);
};

// Blocks the calling fiber for `d` of virtual time.
void Sleep(DurationNs d);
// Blocks the calling fiber until virtual time `t`.
void SleepUntil(TimeNs t);
// Current virtual time.
inline TimeNs Now() { return Scheduler::Current().Now(); }

}  // namespace ksim

#endif  // KSIM_ENGINE_RUNTIME_SCHEDULER_H_
