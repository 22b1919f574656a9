// Aiming the mutation at the actor's call instead of guessing, in the spirit of LTP's fuzzy sync:
// measure how long each side's call takes and how far apart the two sides start when released
// together, then place the mutation's start at an offset inside (-mutation, +actor call), swept
// over that interval by a seeded low-discrepancy sequence so early, middle and late landings all
// occur. The math is pure (unit-tested); the delays are busy-waits (µs precision, no sleeps).
#pragma once

#include <cstdint>

namespace kvmrace::aim {

// The k-th point in [0, 1) of a seeded golden-ratio (Weyl) sequence: any run of consecutive
// points spreads evenly over the interval, and the seed alone fixes the whole sequence.
double sweep_point(uint64_t seed, uint64_t k);

// Fraction of each end of the overlap interval left out: a landing that close to the edge is
// one timer jitter away from a miss.
constexpr double kEdgeMargin = 0.1;

// Mutation start relative to the actor call's start for sweep point u in [0, 1): spans
// (-mutation_ns, +actor_ns) minus the margins, i.e. every value overlaps the two calls.
double target_offset_ns(double u, double actor_ns, double mutation_ns);

// Busy-wait delays after a common release that make the mutation start `offset_ns` after the
// actor's call, when undelayed the mutator's call starts `skew_ns` after the actor's.
struct Delays {
    uint64_t actor_ns = 0;
    uint64_t mutator_ns = 0;
};
Delays delays_for(double offset_ns, double skew_ns);

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

// Spins until `ns` have passed (the start offsets are a few µs: a sleep would be 50x too coarse).
void spin_ns(uint64_t ns);

// The aim of a barrier-released race (prefault vs mutation): one owner thread (the mutator) plans
// each round before releasing it and observes it afterwards; the barrier orders the hand-over.
class Aimer {
public:
    // jitter_us > 0: the old blind jitter, uniformly 0..jitter_us on each side (for A/B runs).
    Aimer(uint64_t seed, unsigned jitter_us) : seed_(seed), jitter_us_(jitter_us) {}

    Delays plan(uint64_t round);
    // Anchored aim: how long after the actor's call has begun the mutation should start in this
    // round, swept over the call's measured length (minus the edge margins) so early, middle and
    // late landings all occur. 0 until a call was measured.
    uint64_t landing_ns(uint64_t round) const;
    // What a round did: both sides' call start times and durations (ns, monotonic clock).
    void observe(const Delays& used, uint64_t actor_start, uint64_t actor_ns,
                 uint64_t mutation_start, uint64_t mutation_ns);

    double actor_ns() const { return actor_.value(); }
    double mutation_ns() const { return mutation_.value(); }
    double skew_ns() const { return skew_.value(); }

private:
    uint64_t seed_;
    unsigned jitter_us_;
    uint64_t rng_ = 0;
    RunningMean actor_, mutation_, skew_;
};

}  // namespace kvmrace::aim
