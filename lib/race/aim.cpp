#include "race/aim.h"

#include <algorithm>
#include <cmath>

#include "watchdog/progress_board.h"

namespace kvmrace::aim {

namespace {

constexpr double kGoldenFraction = 0.6180339887498949;  // 1/phi: the most even Weyl step

uint64_t mix(uint64_t x) {  // splitmix64: a well-spread start point per seed
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace

double sweep_point(uint64_t seed, uint64_t k) {
    const double start = double(mix(seed) >> 11) / double(1ull << 53);
    double u = start + double(k) * kGoldenFraction;
    u -= std::floor(u);
    return u >= 1.0 ? 0.0 : u;
}

void RunningMean::add(double x) {
    ++n_;
    const double weight = n_ <= kWarmup ? 1.0 / double(n_) : 1.0 / 8;
    value_ += (x - value_) * weight;
}

void spin_ns(uint64_t ns) {
    if (ns == 0) return;
    const uint64_t until = monotonic_ns() + ns;
    while (monotonic_ns() < until) asm volatile("pause");
}

uint64_t Aimer::landing_ns(uint64_t round) const {
    const double u = kEdgeMargin + (1 - 2 * kEdgeMargin) * sweep_point(seed_, round);
    return uint64_t(u * actor_.value());
}

}  // namespace kvmrace::aim
