#include "sim/kernel/trace.h"

#include "absl/strings/str_format.h"
#include "engine/runtime/rng.h"

namespace ksim {

void TraceRecorder::Record(TimeNs time, NodeId node, std::string_view kind,
                           std::string_view detail) {
  Fold(static_cast<uint64_t>(time));
  Fold(static_cast<uint64_t>(static_cast<int64_t>(node)));
  Fold(Fnv1a64(kind));
  Fold(Fnv1a64(detail));
  ++events_recorded_;
  if (window_events_ == 0 && !sink_) return;
  TraceEvent ev{time, node, std::string(kind), std::string(detail)};
  if (sink_) sink_(ev);
  if (window_events_ > 0) {
    if (window_.size() == window_events_) window_.pop_front();
    window_.push_back(std::move(ev));
  }
}

std::string TraceRecorder::HashHex() const { return absl::StrFormat("%016x", hash_); }

std::vector<TraceEvent> TraceRecorder::WindowBetween(TimeNs from, TimeNs to) const {
  std::vector<TraceEvent> out;
  for (const TraceEvent& e : window_) {
    if (e.time >= from && e.time <= to) out.push_back(e);
  }
  return out;
}

}  // namespace ksim
