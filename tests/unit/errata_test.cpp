// The errata are predicates over scenario facts and the kernel: one row per (scenario, kernel)
// pins exactly which known bugs a scenario can meet there, so a default run skips those and
// nothing else. Plus the HANG context's placement of an in-flight range against the slots.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/errata.h"
#include "race/hang_context.h"

namespace kvmrace::test {
namespace {

const Scenario& scenario(std::string_view name) {
    for (const Scenario& s : scenario_catalog())
        if (s.name == name) return s;
    throw std::runtime_error("no scenario " + std::string(name));
}

std::string ids(const Scenario& s, KernelVersion k, std::vector<std::string> assumed = {}) {
    std::string out;
    for (const Erratum* e : errata_for(race_facts(s), k, ErrataPresence::by_version(k, assumed)))
        out += (out.empty() ? "" : ",") + std::string(e->id);
    return out;
}

struct Row {
    std::string_view scenario;
    KernelVersion kernel;
    std::string_view want;
};

constexpr KernelVersion k6_10{6, 10, 0}, k6_11{6, 11, 0}, k6_14{6, 14, 0}, k6_17{6, 17, 0},
    k6_18_2{6, 18, 2}, k7_1{7, 1, 0};

const Row kRows[] = {
    // No KVM_PRE_FAULT_MEMORY before 6.11: nothing to hang.
    {"PrefaultVsDelete_Anon", k6_10, ""},
    // 6.11: every VM type zaps all roots (no SLOT_ZAP_ALL quirk yet).
    {"PrefaultVsDelete_SwProtectedAnon", k6_11,
     "prefault-eagain,prefault-obsolete-roots,prefault-stale-root"},
    {"PrefaultVsDelete_Anon", k6_14, "prefault-eagain,prefault-obsolete-roots,prefault-stale-root"},
    {"PrefaultVsDelete_AnonNoZapAll", k6_14, "prefault-eagain"},
    {"PrefaultVsDelete_GmemPrivate", k6_14, "prefault-eagain"},
    {"PrefaultVsDelete_SwProtectedAnon", k6_14, "prefault-eagain"},
    {"PrefaultAfterRecreate_Anon", k6_14, "prefault-obsolete-roots"},
    {"PrefaultVsDirtyLogToggle_Anon", k6_14, ""},
    {"PrefaultVsPunchHole_GmemShared", k6_14, ""},
    {"RunVsDelete_Anon", k6_14, ""},
    {"PrefaultVsDelete_Anon", k6_17, "prefault-eagain,prefault-stale-root"},
    {"PrefaultAfterRecreate_Anon", k6_17, ""},
    {"PrefaultVsMoveCovering_AnonNoZapAll", k6_17, "prefault-eagain"},
    // 6.18.2: only the stale root, and only where a delete/move zaps all roots.
    {"PrefaultVsDelete_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultVsDelete_Thp", k6_18_2, "prefault-stale-root"},
    {"PrefaultVsDelete_GmemShared", k6_18_2, "prefault-stale-root"},
    {"PrefaultVsMoveAway_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultVsMoveCovering_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultSpanningTwoSlotsVsDelete_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultFourVcpusOverlappingVsDelete_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultFourVcpusDisjointVsMoveAway_Anon", k6_18_2, "prefault-stale-root"},
    {"PrefaultVsDelete_AnonNoZapAll", k6_18_2, ""},
    {"PrefaultVsMoveAway_AnonNoZapAll", k6_18_2, ""},
    {"PrefaultVsDelete_GmemPrivate", k6_18_2, ""},
    {"PrefaultVsDelete_SwProtectedAnon", k6_18_2, ""},
    {"PrefaultVsPunchHole_GmemPrivate", k6_18_2, ""},
    {"PrefaultAfterRecreate_Anon", k6_18_2, ""},
    {"RunVsMoveAway_Anon", k6_18_2, ""},
    // Confidential VMs zap one memslot: only the INVALID-slot retry before 6.18.
    {"CocoPrefaultVsDelete_Snp", k6_14, "prefault-eagain"},
    {"CocoPrefaultVsDelete_Tdx", k6_18_2, ""},
    {"CocoPrefaultBeforeFinish_Snp", k6_14, ""},
    {"PopulateVsDelete_Tdx", k6_17, ""},
    // Unfixed: still predicted on later kernels.
    {"PrefaultVsMoveAway_Thp", k7_1, "prefault-stale-root"},
};

TEST(UnitErrata, EachScenarioMeetsExactlyTheBugsItsFactsPredict) {
    for (const Row& r : kRows)
        EXPECT_EQ(ids(scenario(r.scenario), r.kernel), r.want)
            << r.scenario << " on " << r.kernel.str();
}

TEST(UnitErrata, AssumedFixDropsOnlyThatErratum) {
    EXPECT_EQ(ids(scenario("PrefaultVsDelete_Anon"), k6_18_2, {"prefault-stale-root"}), "");
    EXPECT_EQ(ids(scenario("PrefaultVsDelete_Anon"), k6_17, {"prefault-stale-root"}),
              "prefault-eagain");
}

TEST(UnitErrata, FixesCarryCommitAndReleaseOrSayUnfixed) {
    for (const Erratum& e : errata()) {
        if (e.fixed_in == KernelVersion{}) {
            EXPECT_TRUE(e.commit.empty()) << e.id;
            EXPECT_FALSE(e.last_seen.empty()) << e.id;
            EXPECT_NE(skip_reason(e).find("fixed in no release"), std::string::npos);
        } else if (!e.commit.empty()) {
            EXPECT_EQ(e.commit.size(), 12u) << e.id;
            EXPECT_NE(skip_reason(e).find(std::string(e.commit)), std::string::npos);
        }
    }
    EXPECT_EQ(find_erratum("prefault-eagain")->commit, "3ccbf6f47098");
    EXPECT_EQ(find_erratum("prefault-obsolete-roots")->fixed_in, (KernelVersion{6, 15, 0}));
    EXPECT_EQ(find_erratum("nonexistent"), nullptr);
}

TEST(UnitErrata, ZapAllDependsOnVmTypeQuirkAndRelease) {
    using enum uapi::VmType;
    EXPECT_TRUE(memslot_update_zaps_all_roots(Default, true, k6_18_2));
    EXPECT_FALSE(memslot_update_zaps_all_roots(Default, false, k6_18_2));
    EXPECT_FALSE(memslot_update_zaps_all_roots(SwProtected, true, k6_18_2));
    EXPECT_FALSE(memslot_update_zaps_all_roots(Snp, true, k6_18_2));
    EXPECT_TRUE(memslot_update_zaps_all_roots(SwProtected, true, k6_11));
}

using State = ProgressBoard::SlotState;

TEST(UnitHangContext, LocatesARangeAgainstTheSlots) {
    const uint64_t g = 1ull << 30, m2 = 2ull << 20, m4 = 2 * m2;
    const SlotSnapshot deleting[] = {{1, true, g, m4, g, g, State::Deleting}};
    EXPECT_EQ(locate_range(g, m4, deleting),
              "[0x40000000, 0x40400000): 0x400000 bytes inside the mutated slot 1 (being deleted: "
              "INVALID, then gone)");
    const SlotSnapshot two[] = {{1, false, g, m2, g, g, State::Present},
                                {2, true, g + m2, m2, g + m2, g + m2, State::Absent}};
    EXPECT_EQ(locate_range(g + m2 / 2, m2, two),
              "[0x40100000, 0x40300000): 0x100000 bytes inside the untouched slot 1 (present); "
              "0x100000 bytes in no slot");
    // Moved away: the home range is in no slot, however near the slot now is.
    const SlotSnapshot away[] = {{1, true, g, m4, g + (1ull << 30), g, State::Present}};
    EXPECT_EQ(locate_range(g, m2, away), "[0x40000000, 0x40200000): 0x200000 bytes in no slot");
    // Moved 2 MiB up, a range over both places: 4 MiB inside it, 2 MiB (its old head) in none.
    const SlotSnapshot up[] = {{1, true, g, m4, g + m2, g, State::Present}};
    EXPECT_EQ(locate_range(g, 3 * m2, up),
              "[0x40000000, 0x40600000): 0x400000 bytes inside the mutated slot 1 (present at "
              "[0x40200000, 0x40600000), away from its home); 0x200000 bytes in no slot");
    // A covering move in flight: the range is in the old place and in the new one.
    const SlotSnapshot moving[] = {{1, true, g, m4, g - m2, g, State::Moving}};
    EXPECT_EQ(locate_range(g, m2, moving),
              "[0x40000000, 0x40200000): 0x200000 bytes inside the mutated slot 1 (its old "
              "place, being moved away from its home to [0x3fe00000, 0x40200000) (the move "
              "away): INVALID, then gone); 0x200000 "
              "bytes inside the mutated slot 1 (its new place, being moved there from "
              "[0x40000000, 0x40400000))");
    // The return move names itself: back home, from where the slot had gone.
    const SlotSnapshot home[] = {{1, true, g, m4, g, g + (1ull << 30), State::Moving}};
    EXPECT_EQ(locate_range(g, m2, home),
              "[0x40000000, 0x40200000): 0x200000 bytes inside the mutated slot 1 (its new "
              "place, being moved there from [0x80000000, 0x80400000))");
    EXPECT_EQ(locate_range(g + (1ull << 30), m2, home),
              "[0x80000000, 0x80200000): 0x200000 bytes inside the mutated slot 1 (its old "
              "place, being moved back home to [0x40000000, 0x40400000) (the return move): "
              "INVALID, then gone)");
    const SlotSnapshot none[] = {{1, true, g, m2, g, g, State::Present}};
    EXPECT_EQ(locate_range(3 * g, m2, none), "[0xc0000000, 0xc0200000): 0x200000 bytes in no slot");
}

}  // namespace
}  // namespace kvmrace::test
