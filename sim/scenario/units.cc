// Parsers for durations, sizes and rates written in scenario files and on the command line.
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sim/scenario/scenario.h"

namespace ksim {
namespace {

// Splits "1.5ms" into (1.5, "ms").
bool SplitNumber(const std::string& s, double* number, std::string* unit) {
  std::string t(absl::StripAsciiWhitespace(s));
  size_t i = 0;
  while (i < t.size() && (absl::ascii_isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' ||
                          (i == 0 && t[i] == '-'))) {
    ++i;
  }
  if (i == 0 || !absl::SimpleAtod(t.substr(0, i), number)) return false;
  *unit = std::string(absl::StripAsciiWhitespace(t.substr(i)));
  return true;
}

}  // namespace

absl::StatusOr<DurationNs> ParseDuration(const std::string& s) {
  double n;
  std::string unit;
  if (!SplitNumber(s, &n, &unit) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' is not a duration (examples: 500ms, 1.5s, 2m, 20us)"));
  }
  double scale;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = kMicrosecond;
  } else if (unit == "ms") {
    scale = kMillisecond;
  } else if (unit == "s") {
    scale = kSecond;
  } else if (unit == "m" || unit == "min") {
    scale = kMinute;
  } else if (unit == "h") {
    scale = kHour;
  } else if (unit.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' needs a unit (ns, us, ms, s, m, h), e.g. ", s, "ms"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "': unknown time unit '", unit, "' (use ns, us, ms, s, m, h)"));
  }
  return static_cast<DurationNs>(std::llround(n * scale));
}

absl::StatusOr<int64_t> ParseSize(const std::string& s) {
  double n;
  std::string unit;
  if (!SplitNumber(s, &n, &unit) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' is not a size (examples: 100, 16KiB, 1MB)"));
  }
  std::string u = absl::AsciiStrToLower(unit);
  double scale;
  if (u.empty() || u == "b") {
    scale = 1;
  } else if (u == "kb") {
    scale = 1e3;
  } else if (u == "kib") {
    scale = 1024;
  } else if (u == "mb") {
    scale = 1e6;
  } else if (u == "mib") {
    scale = 1024.0 * 1024;
  } else if (u == "gb") {
    scale = 1e9;
  } else if (u == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "': unknown size unit '", unit, "' (use B, KB, KiB, MB, MiB, GB, GiB)"));
  }
  return static_cast<int64_t>(std::llround(n * scale));
}

absl::StatusOr<double> ParseRate(const std::string& s) {
  std::string t(absl::StripAsciiWhitespace(s));
  size_t slash = t.find('/');
  double n;
  if (!absl::SimpleAtod(t.substr(0, slash), &n) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' is not a rate (examples: 10000/s, 5/ms, 0 for unthrottled)"));
  }
  if (slash == std::string::npos) return n;
  std::string unit = t.substr(slash + 1);
  if (unit == "s") return n;
  if (unit == "ms") return n * 1000;
  if (unit == "us") return n * 1e6;
  if (unit == "m" || unit == "min") return n / 60;
  if (unit == "h") return n / 3600;
  return absl::InvalidArgumentError(
      absl::StrCat("'", s, "': unknown rate unit '/", unit, "' (use /s, /ms, /m, /h)"));
}

}  // namespace ksim
