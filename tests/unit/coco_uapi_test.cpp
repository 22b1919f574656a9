// Our confidential-VM uapi (lib/kvm/uapi.h) against a kernel tree's installed headers: every
// struct size, field offset and ioctl number, checked by compiling a C file with the system's C
// compiler and -I$KVMRACE_KERNEL_HEADERS (`make headers_install INSTALL_HDR_PATH=DIR` gives
// DIR/include). The static_asserts in uapi.h pin the same numbers for v6.18.2 at build time; this
// test is what catches a kernel that changed them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kvm/uapi.h"

namespace kvmrace {
namespace {

struct Check {
    std::string c_expr;  // in C, against the kernel's headers
    uint64_t ours;       // the same quantity from our definitions
};

#define KVMRACE_SIZE(ours, theirs) \
    Check { "sizeof(struct " #theirs ")", sizeof(uapi::ours) }
#define KVMRACE_FIELD(ours, theirs, field) \
    Check { "offsetof(struct " #theirs ", " #field ")", offsetof(uapi::ours, field) }

std::vector<Check> layout_checks() {
    return {
        KVMRACE_SIZE(SevCmd, kvm_sev_cmd),
        KVMRACE_FIELD(SevCmd, kvm_sev_cmd, id),
        KVMRACE_FIELD(SevCmd, kvm_sev_cmd, data),
        KVMRACE_FIELD(SevCmd, kvm_sev_cmd, error),
        KVMRACE_FIELD(SevCmd, kvm_sev_cmd, sev_fd),
        KVMRACE_SIZE(SevInit, kvm_sev_init),
        KVMRACE_FIELD(SevInit, kvm_sev_init, vmsa_features),
        KVMRACE_FIELD(SevInit, kvm_sev_init, flags),
        KVMRACE_FIELD(SevInit, kvm_sev_init, ghcb_version),
        KVMRACE_FIELD(SevInit, kvm_sev_init, pad2),
        KVMRACE_SIZE(SevLaunchStart, kvm_sev_launch_start),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, handle),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, policy),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, dh_uaddr),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, dh_len),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, session_uaddr),
        KVMRACE_FIELD(SevLaunchStart, kvm_sev_launch_start, session_len),
        KVMRACE_SIZE(SevLaunchUpdateData, kvm_sev_launch_update_data),
        KVMRACE_FIELD(SevLaunchUpdateData, kvm_sev_launch_update_data, uaddr),
        KVMRACE_FIELD(SevLaunchUpdateData, kvm_sev_launch_update_data, len),
        KVMRACE_SIZE(SevLaunchMeasure, kvm_sev_launch_measure),
        KVMRACE_FIELD(SevLaunchMeasure, kvm_sev_launch_measure, uaddr),
        KVMRACE_FIELD(SevLaunchMeasure, kvm_sev_launch_measure, len),
        KVMRACE_SIZE(SevGuestStatus, kvm_sev_guest_status),
        KVMRACE_FIELD(SevGuestStatus, kvm_sev_guest_status, state),
        KVMRACE_SIZE(SnpLaunchStart, kvm_sev_snp_launch_start),
        KVMRACE_FIELD(SnpLaunchStart, kvm_sev_snp_launch_start, policy),
        KVMRACE_FIELD(SnpLaunchStart, kvm_sev_snp_launch_start, gosvw),
        KVMRACE_FIELD(SnpLaunchStart, kvm_sev_snp_launch_start, flags),
        KVMRACE_FIELD(SnpLaunchStart, kvm_sev_snp_launch_start, pad1),
        KVMRACE_SIZE(SnpLaunchUpdate, kvm_sev_snp_launch_update),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, gfn_start),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, uaddr),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, len),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, type),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, flags),
        KVMRACE_FIELD(SnpLaunchUpdate, kvm_sev_snp_launch_update, pad2),
        KVMRACE_SIZE(SnpLaunchFinish, kvm_sev_snp_launch_finish),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, id_block_uaddr),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, id_auth_uaddr),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, id_block_en),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, auth_key_en),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, vcek_disabled),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, host_data),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, flags),
        KVMRACE_FIELD(SnpLaunchFinish, kvm_sev_snp_launch_finish, pad1),
        KVMRACE_SIZE(TdxCmd, kvm_tdx_cmd),
        KVMRACE_FIELD(TdxCmd, kvm_tdx_cmd, id),
        KVMRACE_FIELD(TdxCmd, kvm_tdx_cmd, flags),
        KVMRACE_FIELD(TdxCmd, kvm_tdx_cmd, data),
        KVMRACE_FIELD(TdxCmd, kvm_tdx_cmd, hw_error),
        KVMRACE_SIZE(TdxCapabilities, kvm_tdx_capabilities),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, supported_attrs),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, supported_xfam),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, kernel_tdvmcallinfo_1_r11),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, user_tdvmcallinfo_1_r12),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, reserved),
        KVMRACE_FIELD(TdxCapabilities, kvm_tdx_capabilities, cpuid),
        KVMRACE_SIZE(TdxInitVm, kvm_tdx_init_vm),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, attributes),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, xfam),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, mrconfigid),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, mrowner),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, mrownerconfig),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, reserved),
        KVMRACE_FIELD(TdxInitVm, kvm_tdx_init_vm, cpuid),
        KVMRACE_SIZE(TdxInitMemRegion, kvm_tdx_init_mem_region),
        KVMRACE_FIELD(TdxInitMemRegion, kvm_tdx_init_mem_region, source_addr),
        KVMRACE_FIELD(TdxInitMemRegion, kvm_tdx_init_mem_region, gpa),
        KVMRACE_FIELD(TdxInitMemRegion, kvm_tdx_init_mem_region, nr_pages),
        KVMRACE_SIZE(SevIssueCmd, sev_issue_cmd),
        KVMRACE_FIELD(SevIssueCmd, sev_issue_cmd, cmd),
        KVMRACE_FIELD(SevIssueCmd, sev_issue_cmd, data),
        KVMRACE_FIELD(SevIssueCmd, sev_issue_cmd, error),
        KVMRACE_SIZE(SevUserDataStatus, sev_user_data_status),
        KVMRACE_FIELD(SevUserDataStatus, sev_user_data_status, flags),
        KVMRACE_FIELD(SevUserDataStatus, sev_user_data_status, build),
        KVMRACE_FIELD(SevUserDataStatus, sev_user_data_status, guest_count),
        KVMRACE_SIZE(SevUserDataSnpStatus, sev_user_data_snp_status),
        KVMRACE_FIELD(SevUserDataSnpStatus, sev_user_data_snp_status, build_id),
        KVMRACE_FIELD(SevUserDataSnpStatus, sev_user_data_snp_status, guest_count),
        KVMRACE_FIELD(SevUserDataSnpStatus, sev_user_data_snp_status, current_tcb_version),
        KVMRACE_FIELD(SevUserDataSnpStatus, sev_user_data_snp_status, reported_tcb_version),
        // Constants and ioctl numbers.
        Check{"KVM_MEMORY_ENCRYPT_OP", uapi::kMemoryEncryptOp},
        Check{"SEV_ISSUE_CMD", uapi::kSevIssueCmd},
        Check{"KVM_X86_SEV_VM", static_cast<uint64_t>(uapi::VmType::Sev)},
        Check{"KVM_X86_SEV_ES_VM", static_cast<uint64_t>(uapi::VmType::SevEs)},
        Check{"KVM_X86_SNP_VM", static_cast<uint64_t>(uapi::VmType::Snp)},
        Check{"KVM_X86_TDX_VM", static_cast<uint64_t>(uapi::VmType::Tdx)},
        Check{"KVM_SEV_INIT2", uapi::kSevInit2},
        Check{"KVM_SEV_LAUNCH_START", uapi::kSevLaunchStart},
        Check{"KVM_SEV_LAUNCH_UPDATE_DATA", uapi::kSevLaunchUpdateData},
        Check{"KVM_SEV_LAUNCH_UPDATE_VMSA", uapi::kSevLaunchUpdateVmsa},
        Check{"KVM_SEV_LAUNCH_MEASURE", uapi::kSevLaunchMeasure},
        Check{"KVM_SEV_LAUNCH_FINISH", uapi::kSevLaunchFinish},
        Check{"KVM_SEV_GUEST_STATUS", uapi::kSevGuestStatus},
        Check{"KVM_SEV_SNP_LAUNCH_START", uapi::kSevSnpLaunchStart},
        Check{"KVM_SEV_SNP_LAUNCH_UPDATE", uapi::kSevSnpLaunchUpdate},
        Check{"KVM_SEV_SNP_LAUNCH_FINISH", uapi::kSevSnpLaunchFinish},
        Check{"KVM_SEV_SNP_PAGE_TYPE_NORMAL", uapi::kSnpPageTypeNormal},
        Check{"KVM_SEV_SNP_PAGE_TYPE_ZERO", uapi::kSnpPageTypeZero},
        Check{"KVM_SEV_SNP_PAGE_TYPE_CPUID", uapi::kSnpPageTypeCpuid},
        Check{"KVM_TDX_CAPABILITIES", uapi::kTdxCapabilities},
        Check{"KVM_TDX_INIT_VM", uapi::kTdxInitVm},
        Check{"KVM_TDX_INIT_VCPU", uapi::kTdxInitVcpu},
        Check{"KVM_TDX_INIT_MEM_REGION", uapi::kTdxInitMemRegion},
        Check{"KVM_TDX_FINALIZE_VM", uapi::kTdxFinalizeVm},
        Check{"KVM_TDX_GET_CPUID", uapi::kTdxGetCpuid},
        Check{"KVM_TDX_MEASURE_MEMORY_REGION", uapi::kTdxMeasureMemoryRegion},
        Check{"KVM_EXIT_TDX", uapi::kExitTdx},
        Check{"KVM_SYSTEM_EVENT_SEV_TERM", uapi::kSystemEventSevTerm},
        Check{"KVM_SYSTEM_EVENT_TDX_FATAL", uapi::kSystemEventTdxFatal},
        Check{"SEV_PLATFORM_STATUS", uapi::kSevPlatformStatus},
        Check{"SNP_PLATFORM_STATUS", uapi::kSnpPlatformStatus},
        Check{"KVM_CAP_VM_TYPES", static_cast<uint64_t>(uapi::kCapVmTypes)},
        Check{"KVM_CAP_PRE_FAULT_MEMORY", static_cast<uint64_t>(uapi::kCapPreFaultMemory)},
        Check{"KVM_PRE_FAULT_MEMORY", uapi::kPreFaultMemory},
        Check{"KVM_SET_MEMORY_ATTRIBUTES", uapi::kSetMemoryAttributes},
        Check{"KVM_CREATE_GUEST_MEMFD", uapi::kCreateGuestMemfd},
    };
}

// One _Static_assert per check; the message names the check so the compiler's output says which
// one differs.
std::string c_source(const std::vector<Check>& checks) {
    std::string s = "#include <stddef.h>\n#include <linux/kvm.h>\n#include <linux/psp-sev.h>\n";
    for (const Check& c : checks)
        s += fmt::format("_Static_assert(({}) == {}ULL, \"kvmrace uapi differs: {} is not {}\");\n",
                         c.c_expr, c.ours, c.c_expr, c.ours);
    return s;
}

int run(const std::string& cmd, std::string* output) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) output->append(buf, n);
    int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(UnitCocoUapi, MatchesKernelHeaders) {
    const char* dir = std::getenv("KVMRACE_KERNEL_HEADERS");
    if (!dir || !*dir)
        GTEST_SKIP() << "KVMRACE_KERNEL_HEADERS not set (a kernel's `make headers_install "
                        "INSTALL_HDR_PATH=DIR`, then DIR/include)";
    namespace fs = std::filesystem;
    if (!fs::exists(fs::path(dir) / "linux" / "kvm.h"))
        GTEST_SKIP() << "KVMRACE_KERNEL_HEADERS=" << dir << ": no linux/kvm.h there";
    if (!fs::exists(fs::path(dir) / "asm" / "kvm.h"))
        GTEST_SKIP() << "KVMRACE_KERNEL_HEADERS=" << dir << ": no asm/kvm.h (x86 headers?)";
    const char* cc_env = std::getenv("CC");
    const std::string cc = cc_env && *cc_env ? cc_env : "cc";
    std::string probe;
    if (run(fmt::format("command -v {}", cc), &probe) != 0)
        GTEST_SKIP() << "no C compiler: `" << cc << "` not found (set CC)";

    const std::vector<Check> checks = layout_checks();
    fs::path src = fs::temp_directory_path() / fmt::format("kvmrace-uapi-{}.c", ::getpid());
    std::ofstream(src) << c_source(checks);
    std::string out;
    int rc =
        run(fmt::format("{} -std=gnu11 -fsyntax-only -I'{}' '{}'", cc, dir, src.string()), &out);
    fs::remove(src);
    EXPECT_EQ(rc, 0) << checks.size() << " checks against " << dir << ":\n" << out;
    RecordProperty("checks", std::to_string(checks.size()));

    // The same harness must notice a wrong layout: one deliberately wrong size fails to compile.
    std::ofstream(src) << c_source({Check{"sizeof(struct kvm_sev_cmd)", sizeof(uapi::SevCmd) + 1}});
    std::string bad;
    int bad_rc =
        run(fmt::format("{} -std=gnu11 -fsyntax-only -I'{}' '{}'", cc, dir, src.string()), &bad);
    fs::remove(src);
    EXPECT_NE(bad_rc, 0) << "a wrong kvm_sev_cmd size compiled";
    EXPECT_NE(bad.find("kvmrace uapi differs"), std::string::npos) << bad;
}

}  // namespace
}  // namespace kvmrace
