#include "engine/runtime/virtual_time.h"

#include "absl/strings/str_format.h"

namespace ksim {

std::string FormatTime(TimeNs t) {
  if (t == kForever) return "forever";
  return absl::StrFormat("%d.%06ds", t / kSecond, (t % kSecond) / kMicrosecond);
}

std::string FormatDuration(DurationNs d) {
  if (d == kForever) return "forever";
  if (d % kSecond == 0) return absl::StrFormat("%ds", d / kSecond);
  if (d >= kSecond) return absl::StrFormat("%.3fs", static_cast<double>(d) / kSecond);
  if (d >= kMillisecond) return absl::StrFormat("%.3gms", static_cast<double>(d) / kMillisecond);
  if (d >= kMicrosecond) return absl::StrFormat("%.3gus", static_cast<double>(d) / kMicrosecond);
  return absl::StrFormat("%dns", d);
}

}  // namespace ksim
