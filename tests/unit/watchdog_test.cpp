// The supervisor against deliberately misbehaving children (harness fault injection, no KVM):
// each stuck child must be flagged HANG within the hang timeout + 1 s, with evidence, and the
// supervisor must get out: signal, kill, verdict.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "watchdog/kernel_log.h"
#include "watchdog/supervisor.h"

namespace kvmrace {
namespace {

SupervisorOptions fast() {
    SupervisorOptions o;
    o.hang_timeout = std::chrono::milliseconds(500);
    o.recovery_bound = std::chrono::milliseconds(500);
    o.kill_bound = std::chrono::milliseconds(3000);
    o.splats_fail = false;  // other tests' kernel noise must not leak into these verdicts
    return o;
}

const ThreadEvidence* find_role(const SupervisedRun& r, std::string_view role) {
    for (const auto& t : r.evidence)
        if (t.role == role) return &t;
    return nullptr;
}

TEST(UnitWatchdog, PassingChildReportsItsCounters) {
    SupervisedRun r = supervise(
        [](ProgressBoard& b) {
            unsigned me = b.join("worker");
            for (int i = 0; i < 10; ++i) {
                InCall c(b, me, Call::Other);
                b.count(Counter::Iterations);
            }
        },
        fast());
    EXPECT_EQ(r.verdict, Verdict::Pass) << r.message;
    EXPECT_EQ(r.counters["iterations"], 10u);
}

TEST(UnitWatchdog, ThrowingChildIsFailWithItsMessage) {
    SupervisedRun r =
        supervise([](ProgressBoard&) { throw std::runtime_error("contract broken at 3"); }, fast());
    EXPECT_EQ(r.verdict, Verdict::Fail);
    EXPECT_EQ(r.message, "contract broken at 3");
}

TEST(UnitWatchdog, CrashingChildIsFail) {
    SupervisedRun r = supervise([](ProgressBoard&) { std::abort(); }, fast());
    EXPECT_EQ(r.verdict, Verdict::Fail);
    EXPECT_EQ(r.message, "the scenario's child died without a verdict (crash?)");
}

TEST(UnitWatchdog, ChildBlockedInSyscallIsHangThenRecoveredBySignal) {
    SupervisedRun r = supervise(
        [](ProgressBoard& b) {
            unsigned me = b.join("blocked");
            int p[2];
            if (::pipe(p) != 0) throw std::runtime_error("pipe");
            char c;
            InCall in(b, me, Call::Other);
            (void)!::read(p[0], &c, 1);  // never written: only the supervisor's signal ends it
        },
        fast());
    ASSERT_EQ(r.verdict, Verdict::Hang);
    EXPECT_LT(r.hang_detect_s, 0.5 + 1.0);
    const ThreadEvidence* t = find_role(r, "blocked");
    ASSERT_NE(t, nullptr) << format_evidence(r.evidence);
    EXPECT_EQ(t->state, 'S');
    EXPECT_EQ(t->in_call, "other");
    EXPECT_GE(t->in_call_s, 0.5);
    EXPECT_TRUE(r.recovered) << r.recovery;
    EXPECT_NE(r.recovery.find("every stuck call returned"), std::string::npos) << r.recovery;
}

TEST(UnitWatchdog, SpinningChildIsHangAndKilled) {
    SupervisedRun r = supervise(
        [](ProgressBoard& b) {
            unsigned me = b.join("spinner");
            InCall in(b, me, Call::Other);
            for (;;) asm volatile("" ::: "memory");  // a user-space spin the compiler keeps
        },
        fast());
    ASSERT_EQ(r.verdict, Verdict::Hang);
    EXPECT_LT(r.hang_detect_s, 1.5);
    const ThreadEvidence* t = find_role(r, "spinner");
    ASSERT_NE(t, nullptr) << format_evidence(r.evidence);
    EXPECT_EQ(t->state, 'R');
    EXPECT_FALSE(r.recovered) << "a user-space spin ignores the signal";
    EXPECT_FALSE(r.unkillable);
    EXPECT_NE(r.recovery.find("child killed"), std::string::npos) << r.recovery;
}

TEST(UnitWatchdog, StoppedChildIsHangAndKilled) {
    SupervisedRun r = supervise(
        [](ProgressBoard& b) {
            unsigned me = b.join("stopped");
            InCall in(b, me, Call::Other);
            ::raise(SIGSTOP);
        },
        fast());
    ASSERT_EQ(r.verdict, Verdict::Hang);
    const ThreadEvidence* t = find_role(r, "stopped");
    ASSERT_NE(t, nullptr) << format_evidence(r.evidence);
    EXPECT_EQ(t->state, 'T');
    EXPECT_FALSE(r.unkillable);
    EXPECT_NE(r.recovery.find("child killed"), std::string::npos) << r.recovery;
}

TEST(UnitWatchdog, ThreadStuckInOneCallIsHangEvenWhileOthersProgress) {
    SupervisedRun r = supervise(
        [](ProgressBoard& b) {
            std::thread busy([&b] {
                unsigned me = b.join("looper");
                for (;;) InCall c(b, me, Call::Other);  // endless short calls: "progress"
            });
            busy.detach();
            unsigned me = b.join("stuck");
            InCall in(b, me, Call::SetMemoryRegion);
            for (;;) ::pause();
        },
        fast());
    ASSERT_EQ(r.verdict, Verdict::Hang);
    EXPECT_EQ(r.hang_kind, "a thread stuck in one call while others loop");
    EXPECT_LT(r.hang_detect_s, 1.5);
    const ThreadEvidence* t = find_role(r, "stuck");
    ASSERT_NE(t, nullptr) << format_evidence(r.evidence);
    EXPECT_EQ(t->in_call, "KVM_SET_USER_MEMORY_REGION2");
}

TEST(UnitWatchdog, ChildThatNeverReportsProgressIsHang) {
    SupervisedRun r = supervise(
        [](ProgressBoard&) {
            for (;;) ::pause();
        },
        fast());
    EXPECT_EQ(r.verdict, Verdict::Hang);
    EXPECT_NE(r.recovery.find("no thread inside a racing ioctl"), std::string::npos) << r.recovery;
}

TEST(UnitKernelLog, RecognizesSplats) {
    EXPECT_TRUE(is_splat(
        "WARNING: CPU: 1 PID: 77 at arch/x86/kvm/mmu/mmu.c:4713 kvm_tdp_map_page+0x1f/0x80"));
    EXPECT_TRUE(is_splat("INFO: task kvmrace:212 blocked for more than 120 seconds."));
    EXPECT_TRUE(is_splat("rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"));
    EXPECT_TRUE(is_splat("watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kvmrace:99]"));
    EXPECT_TRUE(is_splat("WARNING: possible circular locking dependency detected"));
    EXPECT_TRUE(is_splat("BUG: KASAN: use-after-free in kvm_mmu_page_fault+0x1/0x2"));
    EXPECT_FALSE(is_splat("kvm_amd: Nested Paging enabled"));
    EXPECT_FALSE(is_splat("random: crng init done"));
}

}  // namespace
}  // namespace kvmrace
