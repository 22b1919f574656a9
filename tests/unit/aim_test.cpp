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

TEST(UnitAim, AnchoredLandingsSweepTheCallInsideTheMargins) {
    Aimer a(42), replay(42);
    EXPECT_EQ(a.landing_ns(0), 0u);  // nothing measured yet: start at once
    for (int i = 0; i < 8; ++i) {
        a.observe_call(100'000);
        replay.observe_call(100'000);
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
