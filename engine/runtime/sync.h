// Fiber synchronisation with virtual-time timeouts: wait lists, one-shot promises/futures,
// channels (mailboxes) and mutexes. All built on Scheduler::Arm/Park/Wake,
// so they behave identically in every run with the same seed.
#ifndef KSIM_ENGINE_RUNTIME_SYNC_H_
#define KSIM_ENGINE_RUNTIME_SYNC_H_

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/runtime/check.h"
#include "engine/runtime/scheduler.h"

namespace ksim {

// FIFO list of parked fibers. Stale tickets (timed out, killed) are skipped when notifying.
class WaitList {
 public:
  // Parks the calling fiber on this list until notified or `deadline`.
  WakeReason Wait(TimeNs deadline) {
    Scheduler& s = Scheduler::Current();
    waiters_.push_back(s.Arm());
    return s.Park(deadline);
  }
  // Wakes the longest-waiting live fiber. Returns whether one was woken.
  bool NotifyOne() {
    if (waiters_.empty()) return false;
    Scheduler* s = Scheduler::CurrentOrNull();
    if (s == nullptr) {  // the simulation is over: nobody can be woken
      waiters_.clear();
      return false;
    }
    while (!waiters_.empty()) {
      WaitTicket t = waiters_.front();
      waiters_.pop_front();
      if (s->Wake(t)) return true;
    }
    return false;
  }
  void NotifyAll() {
    if (waiters_.empty()) return;
    Scheduler* s = Scheduler::CurrentOrNull();
    std::deque<WaitTicket> w;
    w.swap(waiters_);
    if (s == nullptr) return;  // the simulation is over: nobody can be woken
    for (const WaitTicket& t : w) s->Wake(t);
  }
  bool empty() const { return waiters_.empty(); }
  // Tickets held, stale ones included.
  size_t size() const { return waiters_.size(); }

  // Adds a ticket the caller has armed (Scheduler::Arm) and will park on, so that one wait can
  // be woken by any of several lists: the first notify wins, the others find the ticket stale.
  // A list that is rarely notified drops its stale tickets as it grows (amortised O(1)).
  void Add(WaitTicket ticket) {
    if (waiters_.size() >= prune_at_) {
      const Scheduler& s = Scheduler::Current();
      std::erase_if(waiters_, [&s](const WaitTicket& t) { return !s.IsCurrent(t); });
      prune_at_ = std::max<size_t>(kMinPruneAt, 2 * waiters_.size());
    }
    waiters_.push_back(ticket);
  }

 private:
  static constexpr size_t kMinPruneAt = 64;
  std::deque<WaitTicket> waiters_;
  size_t prune_at_ = kMinPruneAt;
};

// A flag that, once set, releases every waiter (now and later).
class Event {
 public:
  void Set() {
    set_ = true;
    waiters_.NotifyAll();
  }
  bool is_set() const { return set_; }
  // Returns true if set, false on timeout.
  bool Wait(TimeNs deadline = kForever) {
    while (!set_) {
      if (waiters_.Wait(deadline) == WakeReason::kTimedOut) return set_;
    }
    return true;
  }

 private:
  bool set_ = false;
  WaitList waiters_;
};

template <typename T>
struct SharedState {
  std::optional<T> value;
  Event ready;
};

template <typename T>
class Future;

// One-shot: the producer side. Setting twice is a programming error.
template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<SharedState<T>>()) {}
  Future<T> GetFuture() const;
  void Set(T v) {
    KSIM_CHECK_MSG(!state_->value.has_value(), "promise set twice");
    state_->value.emplace(std::move(v));
    state_->ready.Set();
  }
  bool is_set() const { return state_->value.has_value(); }

 private:
  std::shared_ptr<SharedState<T>> state_;
};

// One-shot: the consumer side. Copies share the same result.
template <typename T>
class Future {
 public:
  Future() = default;
  bool valid() const { return state_ != nullptr; }
  bool ready() const { return state_->value.has_value(); }
  // Blocks until the value is set (true) or the deadline passes (false).
  bool Wait(TimeNs deadline = kForever) const { return state_->ready.Wait(deadline); }
  // Blocks until set, then returns the value. REQUIRES: no timeout wanted.
  const T& Get() const {
    state_->ready.Wait(kForever);
    return *state_->value;
  }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<SharedState<T>> s) : state_(std::move(s)) {}
  std::shared_ptr<SharedState<T>> state_;
};

template <typename T>
Future<T> Promise<T>::GetFuture() const {
  return Future<T>(state_);
}

// Unbounded multi-producer multi-consumer mailbox. Send never blocks. After Close(), receivers
// drain what is queued and then get a Cancelled status.
template <typename T>
class Channel {
 public:
  // Returns false if the channel is closed (the value is dropped).
  bool Send(T v) {
    if (closed_) return false;
    q_.push_back(std::move(v));
    receivers_.NotifyOne();
    return true;
  }
  // Blocks until a value, the deadline (DeadlineExceeded) or closure (Cancelled).
  absl::StatusOr<T> Receive(TimeNs deadline = kForever) {
    while (q_.empty()) {
      if (closed_) return absl::CancelledError("channel closed");
      if (receivers_.Wait(deadline) == WakeReason::kTimedOut && q_.empty()) {
        if (closed_) return absl::CancelledError("channel closed");
        return absl::DeadlineExceededError("receive timed out");
      }
    }
    T v = std::move(q_.front());
    q_.pop_front();
    // Another receiver may be waiting while values remain.
    if (!q_.empty()) receivers_.NotifyOne();
    return v;
  }
  std::optional<T> TryReceive() {
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    return v;
  }
  void Close() {
    closed_ = true;
    receivers_.NotifyAll();
  }
  bool closed() const { return closed_; }
  size_t size() const { return q_.size(); }

 private:
  std::deque<T> q_;
  WaitList receivers_;
  bool closed_ = false;
};

// A fiber mutex (FIFO hand-off). Fibers on one thread only interleave at blocking points, so
// this is needed only to hold exclusion across a blocking call.
class Mutex {
 public:
  void Lock() {
    while (locked_) waiters_.Wait(kForever);
    locked_ = true;
  }
  // Returns false on timeout.
  bool LockUntil(TimeNs deadline) {
    while (locked_) {
      if (waiters_.Wait(deadline) == WakeReason::kTimedOut && locked_) return false;
    }
    locked_ = true;
    return true;
  }
  void Unlock() {
    KSIM_CHECK_MSG(locked_, "unlock of an unlocked mutex");
    locked_ = false;
    waiters_.NotifyOne();
  }
  bool locked() const { return locked_; }

 private:
  bool locked_ = false;
  WaitList waiters_;
};

// Counting semaphore: at most `permits` holders at a time (a pool of threads, say).
class Semaphore {
 public:
  explicit Semaphore(int64_t permits) : available_(permits) { KSIM_CHECK(permits > 0); }
  void Acquire() {
    while (available_ == 0) waiters_.Wait(kForever);
    --available_;
  }
  void Release() {
    ++available_;
    waiters_.NotifyOne();
  }
  int64_t available() const { return available_; }

 private:
  int64_t available_;
  WaitList waiters_;
};

class SemaphoreGuard {
 public:
  explicit SemaphoreGuard(Semaphore& s) : s_(s) { s_.Acquire(); }
  ~SemaphoreGuard() { s_.Release(); }
  SemaphoreGuard(const SemaphoreGuard&) = delete;
  SemaphoreGuard& operator=(const SemaphoreGuard&) = delete;

 private:
  Semaphore& s_;
};

class MutexLock {
 public:
  explicit MutexLock(Mutex& m) : m_(m) { m_.Lock(); }
  ~MutexLock() { m_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_RUNTIME_SYNC_H_
