// Trace recorder: a running 64-bit hash over everything that happens in a run, plus a bounded
// window of recent readable events for failure reports and optional full capture.
//
// Two runs with the same scenario and seed must produce the same hash; tests assert it.
#ifndef KSIM_SIM_KERNEL_TRACE_H_
#define KSIM_SIM_KERNEL_TRACE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "engine/runtime/scheduler.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

struct TraceEvent {
  TimeNs time = 0;
  NodeId node = kNoNode;
  std::string kind;    // "election", "isr-shrink", "crash", ...
  std::string detail;  // free text, e.g. "orders-0 leader=2 epoch=5"
};

class TraceRecorder {
 public:
  explicit TraceRecorder(size_t window_events = 256) : window_events_(window_events) {}

  // Folds a cheap fact (event time, slot, ...) into the hash without recording text.
  void Fold(uint64_t x) { hash_ = Mix(hash_ ^ x); }
  // Cheaper fold for the kernel's per-event hot path (one multiply; still order-sensitive).
  void FoldFast(uint64_t x) { hash_ = (hash_ ^ x) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL; }

  // Records a readable event: folded into the hash, kept in the recent window, and passed to
  // the sink if one is installed.
  void Record(TimeNs time, NodeId node, std::string_view kind, std::string_view detail);

  uint64_t hash() const { return hash_; }
  std::string HashHex() const;
  uint64_t events_recorded() const { return events_recorded_; }

  // The most recent readable events (oldest first).
  const std::deque<TraceEvent>& window() const { return window_; }
  // Readable events in [from, to] still in the window.
  std::vector<TraceEvent> WindowBetween(TimeNs from, TimeNs to) const;

  // Every readable event also goes to `sink` (e.g. a trace file writer). Empty removes it.
  void SetSink(std::function<void(const TraceEvent&)> sink) { sink_ = std::move(sink); }

  static constexpr uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t hash_ = 0x6b73696d5f747263ULL;  // "ksim_trc"
  uint64_t events_recorded_ = 0;
  size_t window_events_;
  std::deque<TraceEvent> window_;
  std::function<void(const TraceEvent&)> sink_;
};

}  // namespace ksim

#endif  // KSIM_SIM_KERNEL_TRACE_H_
