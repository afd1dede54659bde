// Deterministic pseudo-random numbers. The only source of randomness in sim/ and engine/.
//
// Every component draws from its own stream, named by a string ("broker-1/fetcher"). A stream's
// seed depends only on the root seed and the stream's name, never on creation order, so adding a
// component does not change what any other component draws.
#ifndef KSIM_ENGINE_RUNTIME_RNG_H_
#define KSIM_ENGINE_RUNTIME_RNG_H_

#include <cstdint>
#include <string_view>

#include "engine/runtime/check.h"

namespace ksim {

// SplitMix64 step: a good 64-bit mixer used to expand seeds.
constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a over bytes: stable across processes and platforms (unlike std::hash).
constexpr uint64_t Fnv1a64(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// xoshiro256** generator.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = SplitMix64(sm);
  }

  // The stream `name` derived from `root_seed`.
  static Rng Stream(uint64_t root_seed, std::string_view name) {
    uint64_t sm = root_seed ^ Fnv1a64(name);
    return Rng(SplitMix64(sm));
  }

  // A child stream of this one, named; does not advance this stream.
  Rng Fork(std::string_view name) const { return Rng(s_[0] ^ Fnv1a64(name, s_[1])); }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) {
    KSIM_CHECK(n > 0);
    // Lemire's multiply-shift; the tiny bias is irrelevant for simulation.
    __extension__ using U128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<U128>(Next()) * n) >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    KSIM_CHECK(lo <= hi);
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  bool Bernoulli(double p) { return NextDouble() < p; }

  // Exponentially distributed with the given mean (for Poisson arrivals).
  double Exponential(double mean);
  // Normally distributed (Box-Muller; uses two draws).
  double Normal(double mean, double stddev);

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace ksim

#endif  // KSIM_ENGINE_RUNTIME_RNG_H_
