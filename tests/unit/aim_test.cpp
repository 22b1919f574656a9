// The aim of the race drivers (race/aim.h): where the mutation's start is placed relative to the
// actor's call, and how the running averages follow the measurements.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "race/aim.h"

namespace kvmrace::aim {
namespace {

TEST(UnitAim, SweepReplaysFromTheSeedAndDiffersAcrossSeeds) {
    for (uint64_t k = 0; k < 100; ++k) {
        EXPECT_EQ(sweep_point(42, k), sweep_point(42, k));
        EXPECT_GE(sweep_point(42, k), 0.0);
        EXPECT_LT(sweep_point(42, k), 1.0);
    }
    EXPECT_NE(sweep_point(42, 0), sweep_point(43, 0));
}

TEST(UnitAim, SweepCoversEveryTenthOfTheIntervalWithin20Points) {
    // Low discrepancy: early, middle and late landings come up quickly, not only eventually.
    for (uint64_t seed : {1ull, 7ull, 123456789ull}) {
        std::vector<int> bins(10);
        for (uint64_t k = 0; k < 20; ++k) ++bins[int(sweep_point(seed, k) * 10)];
        EXPECT_EQ(std::count(bins.begin(), bins.end(), 0), 0) << "seed " << seed;
        EXPECT_LE(*std::max_element(bins.begin(), bins.end()), 3) << "seed " << seed;
    }
}

TEST(UnitAim, TargetSpansMinusMutationToPlusActorCallInsideTheMargins) {
    const double actor = 100'000, mutation = 40'000;
    EXPECT_DOUBLE_EQ(target_offset_ns(0, actor, mutation), -mutation * (1 - kEdgeMargin));
    EXPECT_DOUBLE_EQ(target_offset_ns(1, actor, mutation), actor * (1 - kEdgeMargin));
    for (double u = 0; u < 1; u += 0.01) {
        const double o = target_offset_ns(u, actor, mutation);
        EXPECT_GT(o, -mutation);  // the mutation still running when the call starts...
        EXPECT_LT(o, actor);      // ...or starting before the call returns: they overlap
    }
    EXPECT_LT(target_offset_ns(0.2, actor, mutation), target_offset_ns(0.8, actor, mutation));
}

TEST(UnitAim, DelaysDelayOnlyTheSideThatIsAheadAndCancelTheSkew) {
    // The mutator naturally starts 5 us after the actor: a 12 us target needs 7 us more.
    Delays d = delays_for(12'000, 5'000);
    EXPECT_EQ(d.actor_ns, 0u);
    EXPECT_EQ(d.mutator_ns, 7'000u);
    // A mutation 10 us before the actor's call: hold the actor back by 15 us.
    d = delays_for(-10'000, 5'000);
    EXPECT_EQ(d.actor_ns, 15'000u);
    EXPECT_EQ(d.mutator_ns, 0u);
    d = delays_for(5'000, 5'000);
    EXPECT_EQ(d.actor_ns + d.mutator_ns, 0u);
}

TEST(UnitAim, RunningMeanIsThePlainMeanFirstThenFollowsADrift) {
    RunningMean m;
    EXPECT_EQ(m.samples(), 0u);
    m.add(10);
    m.add(20);
    m.add(30);
    EXPECT_DOUBLE_EQ(m.value(), 20);
    for (int i = 0; i < 100; ++i) m.add(1000);
    EXPECT_NEAR(m.value(), 1000, 1);
}

TEST(UnitAim, AimerLearnsTheSkewAndLandsTheMutationOnTarget) {
    // A simulated race: the mutator wakes 3 us after the actor; calls of 50 us and 20 us.
    const uint64_t skew = 3'000, actor_ns = 50'000, mutation_ns = 20'000;
    Aimer a(9, 0);
    EXPECT_EQ(a.plan(0).actor_ns + a.plan(0).mutator_ns, 0u);  // nothing measured yet
    int overlapping = 0;
    for (uint64_t k = 0; k < 200; ++k) {
        const Delays d = a.plan(k);
        const uint64_t release = 1'000'000 * (k + 1);
        const uint64_t actor_start = release + d.actor_ns;
        const uint64_t mutation_start = release + skew + d.mutator_ns;
        const auto offset = double(int64_t(mutation_start - actor_start));
        if (k >= 10) {  // after the warm-up every landing overlaps the call, within the margins
            overlapping += offset > -double(mutation_ns) && offset < double(actor_ns);
            EXPECT_NEAR(offset, target_offset_ns(sweep_point(9, k), actor_ns, mutation_ns), 1);
        }
        a.observe(d, actor_start, actor_ns, mutation_start, mutation_ns);
    }
    EXPECT_EQ(overlapping, 190);
    EXPECT_NEAR(a.skew_ns(), skew, 1);
}

TEST(UnitAim, BlindJitterReplaysFromTheSeedWithinItsBound) {
    Aimer a(5, 20), b(5, 20);
    bool varied = false;
    uint64_t first = ~0ull;
    for (uint64_t k = 0; k < 50; ++k) {
        const Delays x = a.plan(k), y = b.plan(k);
        EXPECT_EQ(x.actor_ns, y.actor_ns);
        EXPECT_EQ(x.mutator_ns, y.mutator_ns);
        EXPECT_LE(x.actor_ns, 20'000u);
        EXPECT_LE(x.mutator_ns, 20'000u);
        if (k == 0) first = x.mutator_ns;
        varied = varied || x.mutator_ns != first;
    }
    EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace kvmrace::aim

namespace kvmrace::aim {
namespace {

TEST(UnitAim, AnchoredLandingsSweepTheCallInsideTheMargins) {
    Aimer a(42, 0), replay(42, 0);
    EXPECT_EQ(a.landing_ns(0), 0u);  // nothing measured yet: start at once
    for (int i = 0; i < 8; ++i) {
        a.observe({}, 0, 100'000, 0, 10'000);
        replay.observe({}, 0, 100'000, 0, 10'000);
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    int early = 0, middle = 0, late = 0;
    for (uint64_t r = 0; r < 300; ++r) {
        const uint64_t t = a.landing_ns(r);
        lo = std::min(lo, t), hi = std::max(hi, t);
        early += t < 36'000, middle += t >= 36'000 && t < 64'000, late += t >= 64'000;
        EXPECT_EQ(t, replay.landing_ns(r));  // --seed replays the landings
    }
    EXPECT_GE(lo, uint64_t(kEdgeMargin * 100'000) - 1);
    EXPECT_LE(hi, uint64_t((1 - kEdgeMargin) * 100'000) + 1);
    EXPECT_GT(early, 60);
    EXPECT_GT(middle, 60);
    EXPECT_GT(late, 60);
}

}  // namespace
}  // namespace kvmrace::aim
