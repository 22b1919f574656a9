// The race space: specs round-trip, every curated row is a point of the space with its own name,
// impossible combinations are rejected naming the axis, and findings get stable signatures.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "explore/corpus.h"
#include "explore/finding.h"
#include "explore/race_space.h"

namespace kvmrace::test {
namespace {

TEST(UnitRaceSpace, EveryCatalogRowIsAPointWithItsName) {
    const auto space = race_space();
    for (const Scenario& s : scenario_catalog()) {
        if (s.actor != Actor::Prefault && s.actor != Actor::Run) continue;  // coco rows
        const RacePoint p = point_of(s);
        EXPECT_EQ(reject_reason(p), "") << s.name;
        EXPECT_NE(std::find(space.begin(), space.end(), p), space.end()) << s.name;
        EXPECT_EQ(scenario_of(p).name, s.name) << spec_of(p);
        SpecParse back = parse_spec(spec_of(p));
        ASSERT_TRUE(back.point) << back.error;
        EXPECT_EQ(*back.point, p) << s.name;
    }
}

TEST(UnitRaceSpace, SpaceIsLargerThanTheCatalogAndUnique) {
    const auto space = race_space();
    std::set<std::string> specs;
    for (const RacePoint& p : space) specs.insert(spec_of(p));
    EXPECT_EQ(specs.size(), space.size());
    EXPECT_GT(space.size(), 2 * scenario_catalog().size());
    // A generated point is named by its spec.
    SpecParse p = parse_spec("actor=prefault,mutation=dirty-log-get,backing=thp");
    ASSERT_TRUE(p.point) << p.error;
    EXPECT_EQ(std::string(scenario_of(*p.point).name).rfind("Explore:actor=prefault", 0), 0u);
}

TEST(UnitRaceSpace, ImpossibleCombinationsNameTheAxis) {
    struct Bad {
        const char* spec;
        const char* error;
    } rows[] = {
        {"actor=prefault,mutation=punch-hole", "axis 'backing': punch-hole needs a guest_memfd"},
        {"actor=prefault,mutation=delete,backing=gmem-private",
         "axis 'vm': private guest_memfd memory needs a SW_PROTECTED VM"},
        {"actor=prefault,mutation=move-away,backing=gmem-shared",
         "axis 'mutation': a guest_memfd slot cannot move"},
        {"actor=run,mutation=recreate", "axis 'mutation': KVM_RUN races"},
        // Found by the first --explore run: KVM_RUN rows allowed it, KVM says EINVAL.
        {"actor=run,mutation=move-away,backing=gmem-shared", "axis 'mutation': a guest_memfd"},
        {"actor=run,mutation=delete,vcpus=1", "axis 'vcpus'"},
        {"actor=prefault,mutation=delete,vm=sw-protected,zap-all=off", "axis 'zap-all'"},
        {"actor=prefault,mutation=recreate,vcpus=4", "axis 'vcpus'"},
        {"actor=prefault", "axis 'mutation' is required"},
        {"actor=prefault,mutation=delete,backing=ssd", "axis 'backing': unknown value 'ssd'"},
        {"actor=prefault,mutation=delete,colour=red", "unknown axis 'colour'"},
        {"actor=prefault,mutation=delete,actor=run", "axis 'actor' given twice"},
        {"prefault", "'prefault' is not axis=value"},
        {"actor=prefault,mutation=move-away,layout=many", "axis 'layout': many slots"},
        {"actor=run,mutation=delete,layout=many", "axis 'layout'"},
        {"actor=irq,mutation=delete", "axis 'mutation': the irq actor races irqfd-deassign"},
        {"actor=irq,mutation=irqfd-deassign,vcpus=2", "axis 'vcpus'"},
        {"actor=prefault,mutation=eventfd-close", "axis 'mutation': eventfd-close is the irq"},
        {"actor=prefault,mutation=dirty-log-clear", "axis 'mutation': dirty-log-clear is raced"},
        {"actor=run,mutation=dirty-log-get,backing=gmem-shared", "axis 'mutation': a guest_memfd"},
    };
    for (const Bad& b : rows) {
        SpecParse p = parse_spec(b.spec);
        EXPECT_FALSE(p.point) << b.spec;
        EXPECT_EQ(p.error.rfind(b.error, 0), 0u) << b.spec << " -> " << p.error;
    }
}

TEST(UnitRaceSpace, NewClassesArePoints) {
    for (const char* spec :
         {"actor=irq,mutation=irqfd-deassign", "actor=irq,mutation=eventfd-close",
          "actor=run,mutation=dirty-log-get", "actor=run,mutation=dirty-log-clear",
          "actor=prefault,mutation=delete,layout=many"})
        EXPECT_TRUE(parse_spec(spec).point) << spec << ": " << parse_spec(spec).error;
}

TEST(UnitRaceSpace, ShrinkMovesTowardDefaultsAndStaysValid) {
    SpecParse p = parse_spec("actor=prefault,mutation=delete,backing=thp,vcpus=4,ranges=disjoint");
    ASSERT_TRUE(p.point) << p.error;
    const auto simpler = simpler_points(*p.point);
    ASSERT_FALSE(simpler.empty());
    for (const RacePoint& q : simpler) EXPECT_EQ(reject_reason(q), "") << spec_of(q);
    EXPECT_EQ(simpler.front().vcpus, 1u);
}

TEST(UnitFinding, SignaturesMaskNumbersAndNameFramesOrErrata) {
    EXPECT_EQ(frame_function("[<0>] kvm_tdp_map_page+0x74/0xb5"), "kvm_tdp_map_page");
    EXPECT_EQ(frame_function("[<0>] 0xffffffff8124aa4a"), "");
    EXPECT_EQ(mask_numbers("EAGAIN in 12 calls at 0x40000000"), "EAGAIN in N calls at N");
    EXPECT_EQ(mask_numbers("KVM_SET_USER_MEMORY_REGION2 failed"),
              "KVM_SET_USER_MEMORY_REGION2 failed");

    const Scenario& stale = scenario_catalog().front();  // PrefaultVsDelete_Anon
    SupervisedRun hang;
    hang.verdict = Verdict::Hang;
    hang.hang_kind = "no progress";
    ThreadEvidence t;
    t.in_call = "KVM_PRE_FAULT_MEMORY";
    t.stack = {"[<0>] kvm_tdp_page_fault+0x65/0xb1", "[<0>] kvm_mmu_do_page_fault+0x106/0x170"};
    hang.evidence = {t};
    const KernelVersion k{6, 18, 2};
    Finding known = finding_of(stale, hang, k, ErrataPresence::by_version(k));
    EXPECT_EQ(known.signature, "HANG known:prefault-stale-root");
    EXPECT_EQ(known.erratum, "prefault-stale-root");
    Finding fresh = finding_of(stale, hang, k, ErrataPresence{});
    EXPECT_EQ(fresh.signature,
              "HANG KVM_PRE_FAULT_MEMORY:kvm_tdp_page_fault<-kvm_mmu_do_page_fault");
    EXPECT_EQ(fresh.erratum, "");

    SupervisedRun fail;
    fail.verdict = Verdict::Fail;
    fail.message =
        "EAGAIN with no delete/move of the slot in flight: KVM_PRE_FAULT_MEMORY(gpa=0x1)";
    EXPECT_EQ(finding_of(stale, fail, k, ErrataPresence{}).signature,
              "FAIL EAGAIN with no delete/move of the slot in flight");
    SupervisedRun pass;
    pass.verdict = Verdict::Pass;
    EXPECT_EQ(finding_of(stale, pass, k, ErrataPresence{}).signature, "");
}

TEST(UnitCorpus, KeepsEachSignatureOnceAndResumes) {
    char dir[] = "/tmp/kvmrace-corpus-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string error;
    {
        auto c = Corpus::open(dir, error);
        ASSERT_TRUE(c) << error;
        c->record({"HANG x", "", "actor=run,mutation=delete,vcpus=4", 7, 1, "6.18.2", "m"});
        c->record({"HANG x", "", "actor=run,mutation=delete", 9, 1, "6.18.2", "m"});
        ASSERT_EQ(c->entries().size(), 1u);
        EXPECT_EQ(c->entries().at("HANG x").count, 2u);
        EXPECT_EQ(c->entries().at("HANG x").seed, 9u);  // the smaller replay
    }
    auto again = Corpus::open(dir, error);
    ASSERT_TRUE(again) << error;
    ASSERT_TRUE(again->has("HANG x"));
    EXPECT_EQ(again->entries().at("HANG x").replay(),
              "kvmrace --scenario-spec 'actor=run,mutation=delete' --seed 9 --force");
    EXPECT_FALSE(Corpus::open("/proc/kvmrace-no-such-dir", error));
    EXPECT_NE(error.find("--corpus /proc/kvmrace-no-such-dir"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvmrace::test
