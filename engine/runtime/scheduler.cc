#include "engine/runtime/scheduler.h"

#include "engine/runtime/check.h"

namespace ksim {
namespace {
thread_local Scheduler* current_scheduler = nullptr;
}  // namespace

Scheduler& Scheduler::Current() {
  KSIM_CHECK_MSG(current_scheduler != nullptr, "no simulation kernel on this thread");
  return *current_scheduler;
}

Scheduler* Scheduler::CurrentOrNull() { return current_scheduler; }

void Scheduler::SetCurrent(Scheduler* s) { current_scheduler = s; }

void Sleep(DurationNs d) {
  KSIM_CHECK(d >= 0);
  Scheduler& s = Scheduler::Current();
  s.SleepUntil(DeadlineAfter(s.Now(), d));
}

void Scheduler::SleepUntil(TimeNs t) {
  Arm();
  WakeReason r = Park(t);
  KSIM_CHECK_MSG(r == WakeReason::kTimedOut || t == kForever,
                 "a sleeping fiber was woken by someone else");
}

void SleepUntil(TimeNs t) { Scheduler::Current().SleepUntil(t); }

}  // namespace ksim
