// Who decides the errata (--errata-from): the probe wins where it saw the bug or the fix, the
// version fills in where it could not tell, --assume-fixed beats both. And a probe's supervised
// run read as a probe verdict.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kernel/errata_decision.h"
#include "race/errata_probe.h"

namespace kvmrace::test {
namespace {

constexpr KernelVersion k6_14{6, 14, 0}, k6_18_2{6, 18, 2};

const ErratumDecision& decision(const std::vector<ErratumDecision>& ds, std::string_view id) {
    for (const ErratumDecision& d : ds)
        if (d.erratum->id == id) return d;
    throw std::runtime_error("no decision for " + std::string(id));
}

std::map<std::string, ProbeResult> probe(std::string id, ProbeOutcome o) {
    return {{std::move(id), ProbeResult{o, 5, 5, 0.5, "seen"}}};
}

TEST(UnitErrataDecision, ProbeThatSawTheFixClearsAVersionAffectedErratum) {
    // The fixed 6.18.2: its version says stale-root, its probe saw the fix.
    auto ds = decide_errata(k6_18_2, ErrataSource::Probe,
                            probe("prefault-stale-root", ProbeOutcome::Fixed));
    const auto& d = decision(ds, "prefault-stale-root");
    EXPECT_EQ(d.by_version, VersionVerdict::Affected);
    EXPECT_FALSE(d.present);
    EXPECT_NE(d.why.find("the probe wins"), std::string::npos) << d.why;
    EXPECT_FALSE(presence_of(ds).has("prefault-stale-root"));
}

TEST(UnitErrataDecision, ProbeThatSawTheBugOverridesAVersionThatSaysFixed) {
    // A "6.18" vendor kernel that lacks the EAGAIN fix.
    auto ds =
        decide_errata(k6_18_2, ErrataSource::Probe, probe("prefault-eagain", ProbeOutcome::HasBug));
    const auto& d = decision(ds, "prefault-eagain");
    EXPECT_EQ(d.by_version, VersionVerdict::Fixed);
    EXPECT_TRUE(d.present);
    EXPECT_NE(d.why.find("the probe wins"), std::string::npos) << d.why;
}

TEST(UnitErrataDecision, UnknownOrMissingProbeFallsBackToTheVersion) {
    auto ds = decide_errata(k6_14, ErrataSource::Probe,
                            probe("prefault-stale-root", ProbeOutcome::Unknown));
    EXPECT_TRUE(decision(ds, "prefault-stale-root").present);
    EXPECT_NE(decision(ds, "prefault-stale-root").why.find("could not tell"), std::string::npos);
    EXPECT_TRUE(decision(ds, "prefault-eagain").present);  // no probe result at all
    EXPECT_NE(decision(ds, "prefault-eagain").why.find("did not run"), std::string::npos);
    EXPECT_TRUE(decision(ds, "irqfd-unique").present);  // 6.14 < 6.17, by version
}

TEST(UnitErrataDecision, VersionModeIgnoresTheProbe) {
    auto ds = decide_errata(k6_18_2, ErrataSource::Version,
                            probe("prefault-stale-root", ProbeOutcome::Fixed));
    EXPECT_TRUE(decision(ds, "prefault-stale-root").present);
}

TEST(UnitErrataDecision, BothModeIsPresentWhenEitherSaysSo) {
    auto fixed = decide_errata(k6_18_2, ErrataSource::Both,
                               probe("prefault-stale-root", ProbeOutcome::Fixed));
    EXPECT_TRUE(decision(fixed, "prefault-stale-root").present);
    auto bug =
        decide_errata(k6_18_2, ErrataSource::Both, probe("prefault-eagain", ProbeOutcome::HasBug));
    EXPECT_TRUE(decision(bug, "prefault-eagain").present);
    EXPECT_FALSE(decision(bug, "prefault-obsolete-roots").present);
}

TEST(UnitErrataDecision, AssumeFixedBeatsAProbeThatSawTheBug) {
    const std::vector<std::string> assumed{"prefault-stale-root"};
    auto ds = decide_errata(k6_18_2, ErrataSource::Probe,
                            probe("prefault-stale-root", ProbeOutcome::HasBug), assumed);
    EXPECT_FALSE(decision(ds, "prefault-stale-root").present);
    EXPECT_EQ(decision(ds, "prefault-stale-root").why, "--assume-fixed");
}

TEST(UnitErrataDecision, TableShowsBothVerdictsAndTheDecision) {
    auto ds = decide_errata(k6_18_2, ErrataSource::Probe,
                            probe("prefault-stale-root", ProbeOutcome::Fixed));
    const std::string t = errata_table(k6_18_2, ErrataSource::Probe, ds);
    EXPECT_NE(t.find("errata decided by probe"), std::string::npos);
    EXPECT_NE(t.find("prefault-stale-root      unfixed  affected     fixed        clear"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("probe: seen (tries 5, hits 5, 0.50 s)"), std::string::npos) << t;
}

TEST(UnitErrataDecision, SourceNamesRoundTrip) {
    for (auto s : {ErrataSource::Probe, ErrataSource::Version, ErrataSource::Both})
        EXPECT_EQ(parse_errata_source(errata_source_name(s)), s);
    EXPECT_FALSE(parse_errata_source("sometimes"));
}

TEST(UnitErrataProbe, AHangIsTheBugAndABodyVerdictRidesInItsMessage) {
    SupervisedRun hang;
    hang.verdict = Verdict::Hang;
    hang.hang_kind = "a thread stuck in one call while others loop";
    hang.hang_detect_s = 1.0;
    hang.recovery = "signalled 42 (prefault, in KVM_PRE_FAULT_MEMORY)";
    hang.counters = {{"mutations", 7}, {"hits", 3}};
    ThreadEvidence t;
    t.role = "prefault";
    t.state = 'R';
    t.stack = {"kvm_tdp_map_page+0x9c/0x120"};
    hang.evidence = {t};
    ProbeResult p = judge_probe(hang);
    EXPECT_EQ(p.outcome, ProbeOutcome::HasBug);
    EXPECT_EQ(p.tries, 7u);
    EXPECT_EQ(p.hits, 3u);
    EXPECT_NE(p.evidence.find("prefault R in kvm_tdp_map_page"), std::string::npos) << p.evidence;

    SupervisedRun pass;
    pass.verdict = Verdict::Pass;
    pass.message = "fixed: 40 deletes of another slot overlapped a prefault, none stuck";
    EXPECT_EQ(judge_probe(pass).outcome, ProbeOutcome::Fixed);
    EXPECT_EQ(judge_probe(pass).evidence,
              "40 deletes of another slot overlapped a prefault, none stuck");
    pass.message = "has the bug: a second irqfd succeeded";
    EXPECT_EQ(judge_probe(pass).outcome, ProbeOutcome::HasBug);
    pass.message = "something else";
    EXPECT_EQ(judge_probe(pass).outcome, ProbeOutcome::Unknown);

    SupervisedRun fail;
    fail.verdict = Verdict::Fail;
    fail.message = "KVM_CREATE_VM failed: ENOMEM";
    EXPECT_EQ(judge_probe(fail).outcome, ProbeOutcome::Unknown);
    EXPECT_NE(judge_probe(fail).evidence.find("ENOMEM"), std::string::npos);
}

}  // namespace
}  // namespace kvmrace::test
