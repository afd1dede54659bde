// Compression as a cost model: each codec shrinks a batch by a ratio and costs CPU per input
// byte to compress (producer, or a broker whose compression.type differs) and to decompress.
// Payloads are synthetic, so the ratio is the codec's typical ratio on JSON-like log data.
// Sources for every figure: docs/COST_MODEL.md ("Compression").
#ifndef KSIM_ENGINE_LOG_COMPRESSION_H_
#define KSIM_ENGINE_LOG_COMPRESSION_H_

#include <cstdint>
#include <string_view>

namespace ksim {

enum class Codec : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

struct CodecCost {
  double ratio;                  // compressed size / original size
  double compress_ns_per_byte;   // single core
  double decompress_ns_per_byte;
};

// REQUIRES: name is one of none, gzip, snappy, lz4, zstd (validated by the config layer).
Codec CodecFromName(std::string_view name);
std::string_view CodecName(Codec c);

constexpr CodecCost CostOf(Codec c) {
  switch (c) {
    case Codec::kNone: return {1.0, 0.0, 0.0};
    case Codec::kGzip: return {0.30, 1000.0 / 40, 1000.0 / 300};     // ~40 MB/s, ~300 MB/s
    case Codec::kSnappy: return {0.50, 1000.0 / 500, 1000.0 / 1500};  // ~500 MB/s, ~1.5 GB/s
    case Codec::kLz4: return {0.48, 1000.0 / 700, 1000.0 / 3500};     // ~700 MB/s, ~3.5 GB/s
    case Codec::kZstd: return {0.28, 1000.0 / 400, 1000.0 / 1200};    // ~400 MB/s, ~1.2 GB/s
  }
  return {1.0, 0.0, 0.0};
}

// Wire size of `raw_bytes` of records compressed with `c` (the batch header is not compressed).
constexpr int64_t CompressedBytes(Codec c, int64_t raw_bytes) {
  return static_cast<int64_t>(static_cast<double>(raw_bytes) * CostOf(c).ratio + 0.5);
}

}  // namespace ksim

#endif  // KSIM_ENGINE_LOG_COMPRESSION_H_
