#include "engine/runtime/rng.h"

#include <cmath>

namespace ksim {

double Rng::Exponential(double mean) {
  double u = NextDouble();
  return -mean * std::log1p(-u);
}

double Rng::Normal(double mean, double stddev) {
  double u1 = NextDouble();
  double u2 = NextDouble();
  if (u1 < 1e-300) u1 = 1e-300;
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace ksim
