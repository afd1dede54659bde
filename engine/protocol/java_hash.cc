#include "engine/protocol/java_hash.h"

namespace ksim {

int32_t JavaStringHashCode(std::string_view s) {
  uint32_t h = 0;  // Java int arithmetic wraps: use unsigned and convert at the end
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    size_t len;
    if (b < 0x80) {
      cp = b;
      len = 1;
    } else if ((b >> 5) == 0x6) {
      cp = b & 0x1f;
      len = 2;
    } else if ((b >> 4) == 0xe) {
      cp = b & 0x0f;
      len = 3;
    } else if ((b >> 3) == 0x1e) {
      cp = b & 0x07;
      len = 4;
    } else {
      add(0xfffd);
      ++i;
      continue;
    }
    if (i + len > s.size()) {
      add(0xfffd);
      break;
    }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      // A supplementary character is two UTF-16 code units (a surrogate pair).
      cp -= 0x10000;
      add(0xd800 + (cp >> 10));
      add(0xdc00 + (cp & 0x3ff));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

}  // namespace ksim
