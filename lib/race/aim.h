// Aiming the mutation at the actor's call instead of guessing, in the spirit of LTP's fuzzy sync:
// measure how long the actor's call takes and start the mutation at a swept fraction of it, once
// the actor is inside the call, so early, middle and late landings all occur. The math is pure
// (unit-tested); the delays are busy-waits (µs precision, no sleeps). An earlier version timed
// both sides from their common release and missed 15-25 % of rounds in nested guests, where a
// thread's wake-up varies by more than a call; anchoring on the actor's entry removed that.
#pragma once

#include <cstdint>

namespace kvmrace::aim {

// The k-th point in [0, 1) of a seeded golden-ratio (Weyl) sequence: any run of consecutive
// points spreads evenly over the interval, and the seed alone fixes the whole sequence.
double sweep_point(uint64_t seed, uint64_t k);

// Fraction of each end of the call left out: a landing that close to the edge is one timer
// jitter away from a miss.
constexpr double kEdgeMargin = 0.1;

// Running mean: the plain mean of the first kWarmup samples, then exponentially weighted (1/8),
// so that it follows a drift (e.g. a prefault that maps nothing once everything is mapped).
class RunningMean {
public:
    static constexpr uint64_t kWarmup = 8;
    void add(double x);
    double value() const { return value_; }
    uint64_t samples() const { return n_; }

private:
    double value_ = 0;
    uint64_t n_ = 0;
};

// Spins until `ns` have passed (the landings are a few µs apart: a sleep would be 50x too coarse).
void spin_ns(uint64_t ns);

// The aim of one race: clean samples of the actor's call length in, landings out.
class Aimer {
public:
    explicit Aimer(uint64_t seed) : seed_(seed) {}

    // How long after the actor's call has begun the mutation should start in this round, swept
    // over the call's measured length minus the edge margins. 0 until a call was measured.
    uint64_t landing_ns(uint64_t round) const;
    // A sample of the actor's call length that no mutation overlapped (an overlapped call is
    // cut short by EAGAIN or stretched by retries).
    void observe_call(uint64_t actor_ns) { actor_.add(double(actor_ns)); }
    double actor_ns() const { return actor_.value(); }

private:
    uint64_t seed_;
    RunningMean actor_;
};

}  // namespace kvmrace::aim
