// How a KVM_RUN race reports an exit no guest of ours asks for (race/vcpu_fault.h): the facts in
// the verdict, and which platform's faults are not judged.
#include <gtest/gtest.h>

#include "kvm/exit_reason.h"
#include "race/vcpu_fault.h"

namespace kvmrace {
namespace {

// What 6.18.2 under QEMU 7.2 TCG reported in RunVsDelete_Thp: an NPF during event delivery in a
// guest page-table walk (info1 bit 33) at a gpa near the top of the L1 guest's RAM, with the L1
// kernel's rip and rsp in the L2 vCPU's state.
VcpuFaultFacts delivery_ev_seen_nested() {
    VcpuFaultFacts f;
    f.exit_reason = uint32_t(ExitReason::InternalError);
    f.suberror = 3;
    f.data = {0x7fb08fe0, 0x400, 0x20000000e, 0x7fb08fe0, 0};
    f.fault_gpa_in_a_slot = false;
    f.rip = 0xffffffff8157ea1c;
    f.rsp = 0xffff88800059fd18;
    f.mutation = "deleting and re-adding the data slot";
    f.kernel = "6.18.2";
    f.hypervisor = "TCGTCGTCGTCG";
    return f;
}

TEST(UnitVcpuFault, DeliveryErrorNamesExitCodeGpaRipAndPlatform) {
    VcpuFault v = judge_vcpu_fault(delivery_ev_seen_nested());
    EXPECT_TRUE(v.platform);
    for (const char* part :
         {"KVM_EXIT_INTERNAL_ERROR", "DELIVERY_EV", "SVM_EXIT_NPF",
          "gpa=0x7fb08fe0 (outside every memslot of this VM)", "rip=0xffffffff8157ea1c",
          "no translation in the guest's page tables",
          "a mutation overlapped this KVM_RUN: deleting", "kernel 6.18.2", "QEMU TCG"})
        EXPECT_NE(v.description.find(part), std::string::npos) << part << "\n" << v.description;
}

TEST(UnitVcpuFault, TheSameFaultOffTcgIsJudged) {
    VcpuFaultFacts f = delivery_ev_seen_nested();
    f.hypervisor = "";
    VcpuFault v = judge_vcpu_fault(f);
    EXPECT_FALSE(v.platform);
    EXPECT_NE(v.description.find("bare metal"), std::string::npos);
    f.hypervisor = "KVMKVMKVM";
    EXPECT_FALSE(judge_vcpu_fault(f).platform);
}

// Under TCG, a fault whose state our guest can reach is KVM's until shown otherwise.
TEST(UnitVcpuFault, UnderTcgOnlyAnUnreachableStateIsThePlatforms) {
    VcpuFaultFacts f = delivery_ev_seen_nested();
    f.rip = 0x100040;
    f.rip_gpa = 0x100040;
    f.fault_gpa_in_a_slot = true;
    f.data[3] = 0x40001000;
    EXPECT_FALSE(judge_vcpu_fault(f).platform) << "guest rip, GPA in the data slot: KVM's";
    f.fault_gpa_in_a_slot = false;
    EXPECT_TRUE(judge_vcpu_fault(f).platform) << "an exit at a GPA no memslot has";
    f.fault_gpa_in_a_slot = std::nullopt;
    f.data[3] = ~0ull;
    VcpuFault v = judge_vcpu_fault(f);
    EXPECT_FALSE(v.platform);
    EXPECT_NE(v.description.find("gpa=invalid"), std::string::npos) << v.description;
    f.exit_reason = uint32_t(ExitReason::Shutdown);
    f.amd = false;  // VMX keeps the state: a SHUTDOWN there is judged by it
    EXPECT_FALSE(judge_vcpu_fault(f).platform);
}

TEST(UnitVcpuFault, ShutdownOnSvmSaysTheStateIsTheResetOne) {
    VcpuFaultFacts f;
    f.exit_reason = uint32_t(ExitReason::Shutdown);
    f.rip = 0xfff0;
    f.hypervisor = "TCGTCGTCGTCG";
    VcpuFault v = judge_vcpu_fault(f);
    EXPECT_TRUE(v.platform);
    EXPECT_NE(v.description.find("triple-faulted"), std::string::npos);
    EXPECT_NE(v.description.find("re-INITs"), std::string::npos);
    EXPECT_NE(v.description.find("no mutation overlapped"), std::string::npos);
}

TEST(UnitVcpuFault, ShutdownOnVmxShowsTheInstruction) {
    VcpuFaultFacts f;
    f.exit_reason = uint32_t(ExitReason::Shutdown);
    f.amd = false;
    f.rip = 0x100123;
    f.rip_gpa = 0x100123;
    f.insn_at_rip = {0x48, 0x89, 0x07};
    VcpuFault v = judge_vcpu_fault(f);
    EXPECT_FALSE(v.platform);
    EXPECT_EQ(v.description.find("re-INITs"), std::string::npos);
    EXPECT_NE(v.description.find("payload code, bytes 48 89 07"), std::string::npos)
        << v.description;
}

TEST(UnitVcpuFault, EmulationFailureCarriesKvmsInstructionBytes) {
    VcpuFaultFacts f;
    f.exit_reason = uint32_t(ExitReason::InternalError);
    f.suberror = 1;
    f.insn_from_kvm = {0x0f, 0x0b};
    f.data = {1, 0x0b0f, 0, 0x400, 0x6, 0x40000000, 0, 0};
    f.rip_gpa = 0x300000;
    const std::string d = judge_vcpu_fault(f).description;
    EXPECT_NE(d.find("instruction 0f 0b"), std::string::npos) << d;
    EXPECT_NE(d.find("error code: 0x400 0x6 0x40000000 0x0 0x0"), std::string::npos) << d;
}

TEST(UnitVcpuFault, OnlyTheExitsNoGuestAsksForAreFaults) {
    EXPECT_TRUE(is_fault_exit(uint32_t(ExitReason::Shutdown)));
    EXPECT_TRUE(is_fault_exit(uint32_t(ExitReason::InternalError)));
    EXPECT_TRUE(is_fault_exit(uint32_t(ExitReason::FailEntry)));
    EXPECT_FALSE(is_fault_exit(uint32_t(ExitReason::Mmio)));
    EXPECT_FALSE(is_fault_exit(uint32_t(ExitReason::Io)));
}

}  // namespace
}  // namespace kvmrace
