// /dev/kvm, VM and vCPU lifecycle, capabilities, VM types.
#include <linux/kvm.h>

#include "kvm/stats.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "kvm_test.h"

namespace kvmrace::test {
namespace {

using KvmSystem = KvmTest;

TEST_F(KvmSystem, ApiVersionIs12) { EXPECT_EQ(system().api_version(), KVM_API_VERSION); }

TEST_F(KvmSystem, VcpuMmapSizeCoversKvmRun) {
    EXPECT_GE(system().vcpu_mmap_size(), sizeof(kvm_run));
}

TEST_F(KvmSystem, VmAndVcpuLifecycle) {
    Vm vm = system().create_vm();
    {
        Vcpu a = vm.create_vcpu(0);
        Vcpu b = vm.create_vcpu(1);
        EXPECT_EQ(vm.try_create_vcpu(1), EEXIST) << "a vCPU id can exist once per VM";
        EXPECT_EQ(a.run_state().exit_reason, 0u);
        EXPECT_NE(a.fd(), b.fd());
    }
    // Closing the vCPU fds does not free the ids: KVM keeps vCPUs until the VM dies.
    EXPECT_EQ(vm.try_create_vcpu(0), EEXIST);
    EXPECT_TRUE(vm.try_create_vcpu(2).ok());
}

TEST_F(KvmSystem, VcpuIdAtMaxIsRejected) {
    Vm vm = system().create_vm();
    int max_id = system().check_extension(KVM_CAP_MAX_VCPU_ID);
    if (max_id == 0) GTEST_SKIP() << capability_reason(KVM_CAP_MAX_VCPU_ID, max_id);
    EXPECT_EQ(vm.try_create_vcpu(static_cast<unsigned>(max_id)), EINVAL);
}

TEST_F(KvmSystem, CapabilitiesTheSuiteNeedsArePresent) {
    for (int cap : {KVM_CAP_USER_MEMORY, KVM_CAP_NR_MEMSLOTS, KVM_CAP_IRQFD, KVM_CAP_IOEVENTFD,
                    KVM_CAP_READONLY_MEM, KVM_CAP_BINARY_STATS_FD})
        EXPECT_GT(system().check_extension(cap), 0) << capability_reason(cap, 0);
    EXPECT_EQ(system().check_extension(0x7fffffff), 0) << "unknown capabilities read as 0";
}

TEST_F(KvmSystem, VmStatsAreReadable) {
    Vm vm = system().create_vm();
    Stats stats(vm.stats_fd());
    EXPECT_EQ(stats.id().rfind("kvm-", 0), 0u) << stats.id();
    EXPECT_TRUE(stats.read("remote_tlb_flush").has_value());
}

// One row per x86 VM type: created when KVM_CAP_VM_TYPES lists it, EINVAL otherwise.
class KvmVmTypes : public KvmTest, public testing::WithParamInterface<unsigned long> {};

TEST_P(KvmVmTypes, CreateMatchesCapability) {
    const unsigned long type = GetParam();
    const bool listed = system().vm_types() & (1ul << type);
    Errno e = system().try_create_vm(type);
    if (listed)
        EXPECT_TRUE(e.ok()) << "type " << type << " is in KVM_CAP_VM_TYPES but: " << e.describe();
    else
        EXPECT_EQ(e, EINVAL) << "type " << type
                             << " absent from KVM_CAP_VM_TYPES: " << e.describe();
}

std::string vm_type_name(const testing::TestParamInfo<unsigned long>& p) {
    constexpr const char* kNames[] = {"Default", "SwProtected", "Sev", "SevEs", "Snp", "Tdx"};
    return kNames[p.param];
}

INSTANTIATE_TEST_SUITE_P(, KvmVmTypes, testing::Range(0ul, uapi::kMaxVmType + 1), vm_type_name);

}  // namespace
}  // namespace kvmrace::test
