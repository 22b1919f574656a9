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

double target_offset_ns(double u, double actor_ns, double mutation_ns) {
    const double lo = -mutation_ns * (1 - kEdgeMargin);
    const double hi = actor_ns * (1 - kEdgeMargin);
    return lo + std::clamp(u, 0.0, 1.0) * (hi - lo);
}

Delays delays_for(double offset_ns, double skew_ns) {
    // The mutator must be delayed by offset - skew relative to the actor; whichever side is
    // ahead waits, the other starts at once.
    const double d = offset_ns - skew_ns;
    Delays out;
    if (d >= 0)
        out.mutator_ns = static_cast<uint64_t>(d);
    else
        out.actor_ns = static_cast<uint64_t>(-d);
    return out;
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

Delays Aimer::plan(uint64_t round) {
    if (jitter_us_ > 0) {
        rng_ = mix(seed_ + rng_ + round);
        const uint64_t span = uint64_t(jitter_us_) + 1;
        return {(rng_ % span) * 1000, ((rng_ >> 32) % span) * 1000};
    }
    // Before the first measurement there is nothing to aim with: start both at once.
    if (actor_.samples() == 0 || mutation_.samples() == 0) return {};
    const double offset =
        target_offset_ns(sweep_point(seed_, round), actor_.value(), mutation_.value());
    return delays_for(offset, skew_.value());
}

uint64_t Aimer::landing_ns(uint64_t round) const {
    const double u = kEdgeMargin + (1 - 2 * kEdgeMargin) * sweep_point(seed_, round);
    return uint64_t(u * actor_.value());
}

void Aimer::observe(const Delays& used, uint64_t actor_start, uint64_t actor_ns,
                    uint64_t mutation_start, uint64_t mutation_ns) {
    actor_.add(double(actor_ns));
    mutation_.add(double(mutation_ns));
    // How far the mutator's start lags the actor's once the planned delays are taken out.
    const double achieved = double(int64_t(mutation_start - actor_start));
    skew_.add(achieved - (double(used.mutator_ns) - double(used.actor_ns)));
}

}  // namespace kvmrace::aim
