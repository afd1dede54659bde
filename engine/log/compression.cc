#include "engine/log/compression.h"

#include "engine/runtime/check.h"

namespace ksim {

Codec CodecFromName(std::string_view name) {
  if (name == "none" || name == "uncompressed" || name == "producer") return Codec::kNone;
  if (name == "gzip") return Codec::kGzip;
  if (name == "snappy") return Codec::kSnappy;
  if (name == "lz4") return Codec::kLz4;
  if (name == "zstd") return Codec::kZstd;
  KSIM_UNREACHABLE("unknown codec " + std::string(name));
}

std::string_view CodecName(Codec c) {
  switch (c) {
    case Codec::kNone: return "none";
    case Codec::kGzip: return "gzip";
    case Codec::kSnappy: return "snappy";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "none";
}

}  // namespace ksim
