// Confidential VMs on the real /dev/kvm: launch a SEV, SEV-ES, SNP or TDX guest with a measured
// payload and check what it reports back. Each SKIPs with the exact missing piece (VM type,
// module parameter, /dev/sev) where the host cannot run it; the skip model itself is checked
// against what KVM_CREATE_VM answers here.
#include <gtest/gtest.h>
#include <unistd.h>

#include "guest/coco_payloads.h"
#include "kvm/coco_caps.h"
#include "kvm/kvm_error.h"
#include "kvm/sev_vm.h"
#include "kvm/tdx_vm.h"
#include "kvm/vm.h"
#include "kvm_test.h"

namespace kvmrace::test {
namespace {

class CocoTest : public KvmTest {
protected:
    void require(CocoKind k) {
        host_ = probe_coco_host(system());
        if (std::string why = coco_missing(k, host_); !why.empty()) GTEST_SKIP() << why;
    }
    uint64_t seed() const { return run_context().seed; }

    void launch_and_report(CocoKind k) {
        require(k);
        if (IsSkipped()) return;
        LaunchImage img = coco_launch_image(k, seed());
        uint64_t report = 0;
        if (k == CocoKind::Tdx) {
            TdxVm td(system());
            td.launch(img);
            report = td.run_to_report();
        } else {
            SevVm vm(system(), coco_vm_type(k));
            SevLaunchRecord rec = vm.launch(img);
            if (k != CocoKind::Snp) {
                EXPECT_FALSE(rec.measurement.empty());
            }
            report = vm.run_to_report();
        }
        EXPECT_EQ(report, coco_expected_report(k, img))
            << coco_name(k) << " guest read different data from its measured page (seed " << seed()
            << ")";
    }

    CocoHost host_;
};

class KvmSev : public CocoTest {};
class KvmSevEs : public CocoTest {};
class KvmSnp : public CocoTest {};
class KvmTdx : public CocoTest {};

TEST_F(KvmSev, LaunchRunsAndReports) { launch_and_report(CocoKind::Sev); }
TEST_F(KvmSevEs, LaunchRunsAndReportsViaGhcbMsr) { launch_and_report(CocoKind::SevEs); }
TEST_F(KvmSnp, LaunchRunsAndReportsViaGhcbMsr) { launch_and_report(CocoKind::Snp); }
TEST_F(KvmTdx, LaunchRunsAndReportsViaTdvmcall) { launch_and_report(CocoKind::Tdx); }

// The skip model must agree with the kernel: a type it calls missing is refused by
// KVM_CREATE_VM, and a type in KVM_CAP_VM_TYPES can be created. Runs on every host.
class KvmCocoCaps : public KvmTest {};

TEST_F(KvmCocoCaps, SkipModelAgreesWithCreateVm) {
    CocoHost h = probe_coco_host(system());
    for (CocoKind k : {CocoKind::Sev, CocoKind::SevEs, CocoKind::Snp, CocoKind::Tdx}) {
        const auto type = static_cast<unsigned long>(coco_vm_type(k));
        Errno e = system().try_create_vm(type);
        const bool listed = h.vm_types & (1ul << type);
        EXPECT_EQ(e.ok(), listed) << coco_name(k) << ": KVM_CREATE_VM(" << type << ") gave "
                                  << e.describe() << " but KVM_CAP_VM_TYPES=" << h.vm_types;
        std::string why = coco_missing(k, h);
        if (!listed) {
            EXPECT_NE(why.find(fmt::format("VM type {} ({})", type, coco_name(k))),
                      std::string::npos)
                << why;
            EXPECT_EQ(e, EINVAL) << coco_name(k);
        }
        RecordProperty(std::string(coco_name(k)), why.empty() ? "available" : why);
    }
}

// The real sink's KVM_MEMORY_ENCRYPT_OP path, on a VM that is not confidential: where KVM has no
// mem_enc_ioctl at all (no SEV or TDX support: SVM without SEV, plain VMX, PVM) it answers
// ENOTTY; where it has one, that one refuses a non-confidential VM with EINVAL (sev.c
// sev_guest_init2's need_init check; vmx/main.c for a non-TD vCPU). Either way the checked form
// names the sub-command and nothing reports progress.
bool amd_host() { return ::access("/sys/module/kvm_amd/parameters/sev", F_OK) == 0; }
bool has_mem_enc_ioctl() {
    return amd_host() || ::access("/sys/module/kvm_intel/parameters/tdx", F_OK) == 0;
}

void expect_refused(Errno e, const char* what) {
    const int err = e.value;
    if (has_mem_enc_ioctl())
        EXPECT_TRUE(err == ENOTTY || err == EINVAL) << what << ": " << err;
    else
        EXPECT_EQ(err, ENOTTY) << what;
}

TEST_F(KvmCocoCaps, EncryptOpOnDefaultVmIsRefused) {
    KvmCocoSink sink(system(), uapi::VmType::Default);
    SevCommands sev(sink, -1);
    uapi::SevInit init{};
    expect_refused(sev.try_issue(uapi::kSevInit2, &init).err, "KVM_SEV_INIT2 on a default VM");
    try {
        sev.launch_start(kSevPolicyNoDbg);
        ADD_FAILURE() << "KVM_SEV_LAUNCH_START succeeded on a default VM";
    } catch (const KvmError& e) {
        EXPECT_EQ(e.call(), "KVM_MEMORY_ENCRYPT_OP(KVM_SEV_LAUNCH_START)");
        expect_refused(Errno{e.err()}, "KVM_SEV_LAUNCH_START on a default VM");
    }
    TdxCommands tdx(sink);
    // VM-scope TDX ids share the number space of SEV's: KVM_TDX_CAPABILITIES is 0, which is
    // KVM_SEV_INIT on an AMD host, and that succeeds on a default VM (it becomes an SEV guest).
    // Only send what this vendor refuses. The vCPU-scope op has no SVM handler at all.
    if (!amd_host())
        expect_refused(tdx.try_issue(uapi::kTdxCapabilities, -1, 0, 0).err,
                       "KVM_TDX_CAPABILITIES on a default VM");
    sink.create_vcpu(0);
    uapi::TdxInitMemRegion region{0, 1ull << 30, 1};
    expect_refused(tdx.try_init_mem_region(0, region, true).err,
                   "KVM_TDX_INIT_MEM_REGION on a default VM's vCPU");
    EXPECT_EQ(region.nr_pages, 1u) << "a refused populate must not report progress";
}

TEST_F(KvmCocoCaps, SevDeviceProbeMatchesModel) {
    CocoHost h = probe_coco_host(system());
    EXPECT_EQ(h.sev_device, SevDevice::probe());
    if (!h.sev_device.ok()) {
        EXPECT_NE(coco_missing(CocoKind::Snp, h), "");
        return;
    }
    SevDevice dev;
    auto st = dev.platform_status();
    ASSERT_TRUE(st.has_value()) << "SEV_PLATFORM_STATUS failed on an open /dev/sev";
    EXPECT_GE(st->api_major, 0);
}

}  // namespace
}  // namespace kvmrace::test
