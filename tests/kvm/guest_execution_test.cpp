// Guest execution: long mode at CPL0 and CPL3, ucall round trips, MMIO exits for unbacked GPAs.
#include <gmock/gmock.h>

#include <cstring>

#include "guest/guest_vm.h"
#include "guest/ucall.h"
#include "kvm_test.h"
#include "payloads/basics.h"

namespace kvmrace::test {
namespace {

using namespace payload::basics;

class KvmGuest : public KvmTest, public testing::WithParamInterface<Privilege> {
protected:
    GuestVmConfig config() const {
        return {PayloadId::Basics, 1, GetParam(), false, uapi::VmType::Default};
    }
};

std::string cpl_name(const testing::TestParamInfo<Privilege>& p) {
    return p.param == Privilege::Cpl0 ? "Cpl0" : "Cpl3";
}

TEST_P(KvmGuest, RunsInLongModeAtRequestedCpl) {
    GuestVm g(system(), config());
    g.start(0, {kReportCpl, 0, 0, 0});
    EXPECT_EQ(g.run_to_done(), GetParam() == Privilege::Cpl0 ? 0u : 3u);
    kvm_sregs s = g.vcpu().sregs();
    EXPECT_TRUE(s.efer & 0x400) << "EFER.LMA clear: efer=" << std::hex << s.efer;
}

TEST_P(KvmGuest, SyncSequenceRoundTrips) {
    GuestVm g(system(), config());
    constexpr uint64_t kCount = 5;
    g.start(0, {kSyncSequence, kCount, 0, 0});
    for (uint64_t i = 1; i <= kCount; ++i) {
        abi::Ucall uc = g.run_to_ucall();
        ASSERT_EQ(uc.cmd, uint64_t(abi::UcallCmd::Sync)) << describe(uc);
        EXPECT_EQ(uc.args[0], i);
    }
    EXPECT_EQ(g.run_to_done(), kCount);
}

TEST_P(KvmGuest, AssertReportsFileLineAndMessage) {
    GuestVm g(system(), config());
    g.start(0, {kAssert, 1, 0, 0});
    GuestExit e = g.run();
    ASSERT_TRUE(e.is(abi::UcallCmd::Assert)) << g.describe_exit();
    EXPECT_STREQ(e.ucall->file, "../guest/payloads/basics.cpp")
        << "file as the guest compiler saw it";
    EXPECT_GT(e.ucall->line, 0u);
    EXPECT_EQ(std::string(e.ucall->text),
              fmt::format("deliberate failure, value {:#x}", kAssertLine));
}

TEST_P(KvmGuest, LogFormatsOnTheGuestSide) {
    GuestVm g(system(), config());
    g.start(0, {kLog, 0xbeef, 0, 0});
    GuestExit e = g.run();
    ASSERT_TRUE(e.is(abi::UcallCmd::Log)) << g.describe_exit();
    EXPECT_STREQ(e.ucall->text, "answer=42 hex=0xbeef str=ok");
    EXPECT_EQ(g.run_to_done(), 0u);
}

TEST_P(KvmGuest, ReadOfUnbackedGpaIsMmioExit) {
    GuestVm g(system(), config());
    const uint64_t gpa = abi::kUnbackedGpa + 0x128;
    g.start(0, {kMmioRead, gpa, 0, 0});
    GuestExit e = g.run();
    ASSERT_EQ(e.reason, ExitReason::Mmio) << g.describe_exit();
    kvm_run& run = g.vcpu().run_state();
    EXPECT_EQ(run.mmio.phys_addr, gpa);
    EXPECT_EQ(run.mmio.len, 8u);
    EXPECT_EQ(run.mmio.is_write, 0);
    const uint64_t value = 0x1122334455667788ull;
    std::memcpy(run.mmio.data, &value, 8);  // the value the guest's load returns
    abi::Ucall uc = g.run_to_ucall();
    ASSERT_EQ(uc.cmd, uint64_t(abi::UcallCmd::Sync)) << describe(uc);
    EXPECT_EQ(uc.args[0], value);
    EXPECT_EQ(g.run_to_done(), 0u);
}

TEST_P(KvmGuest, WriteToUnbackedGpaIsMmioExitWithData) {
    GuestVm g(system(), config());
    const uint64_t gpa = abi::kUnbackedGpa + 0x2000;
    const uint64_t value = 0xfeedfacecafef00dull;
    g.start(0, {kMmioWrite, gpa, value, 0});
    GuestExit e = g.run();
    ASSERT_EQ(e.reason, ExitReason::Mmio) << g.describe_exit();
    kvm_run& run = g.vcpu().run_state();
    EXPECT_EQ(run.mmio.phys_addr, gpa);
    EXPECT_EQ(run.mmio.len, 8u);
    EXPECT_EQ(run.mmio.is_write, 1);
    uint64_t data;
    std::memcpy(&data, run.mmio.data, 8);
    EXPECT_EQ(data, value);
    EXPECT_EQ(g.run_to_done(), 0u);
}

INSTANTIATE_TEST_SUITE_P(, KvmGuest, testing::Values(Privilege::Cpl0, Privilege::Cpl3), cpl_name);

}  // namespace
}  // namespace kvmrace::test
