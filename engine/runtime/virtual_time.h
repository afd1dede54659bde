// Virtual time. Integer nanoseconds everywhere; never floating-point seconds.
#ifndef KSIM_ENGINE_RUNTIME_VIRTUAL_TIME_H_
#define KSIM_ENGINE_RUNTIME_VIRTUAL_TIME_H_

#include <cstdint>
#include <limits>
#include <string>

namespace ksim {

// A point in virtual time, in nanoseconds since the start of the simulation.
using TimeNs = int64_t;
// A span of virtual time in nanoseconds.
using DurationNs = int64_t;

inline constexpr DurationNs kNanosecond = 1;
inline constexpr DurationNs kMicrosecond = 1000;
inline constexpr DurationNs kMillisecond = 1000 * kMicrosecond;
inline constexpr DurationNs kSecond = 1000 * kMillisecond;
inline constexpr DurationNs kMinute = 60 * kSecond;
inline constexpr DurationNs kHour = 60 * kMinute;

// "No deadline": waits with this deadline only end by being woken.
inline constexpr TimeNs kForever = std::numeric_limits<TimeNs>::max();

constexpr DurationNs Millis(int64_t ms) { return ms * kMillisecond; }
constexpr DurationNs Micros(int64_t us) { return us * kMicrosecond; }
constexpr DurationNs Seconds(int64_t s) { return s * kSecond; }

// Adds without overflowing past kForever.
constexpr TimeNs DeadlineAfter(TimeNs now, DurationNs d) {
  if (d >= kForever - now) return kForever;
  return now + d;
}

// Human-readable virtual time, e.g. "12.345678s".
std::string FormatTime(TimeNs t);
// Human-readable duration with a fitting unit, e.g. "1.5ms", "250us", "3s".
std::string FormatDuration(DurationNs d);

}  // namespace ksim

#endif  // KSIM_ENGINE_RUNTIME_VIRTUAL_TIME_H_
