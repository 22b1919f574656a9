// The KVM uapi that kvmrace needs beyond Debian 12's Linux 6.1 headers, vendored from the v6.18
// uapi. Everything lives in kvmrace::uapi with names that cannot collide with <linux/kvm.h>
// macros; every struct carries a static_assert on its size and every ioctl number is checked
// against the value the kernel defines (see shared FACTS.md).
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace kvmrace::uapi {

struct UserspaceMemoryRegion2 {
    uint32_t slot;
    uint32_t flags;
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t guest_memfd_offset;
    uint32_t guest_memfd;
    uint32_t pad1;
    uint64_t pad2[14];
};
static_assert(sizeof(UserspaceMemoryRegion2) == 160);

struct CreateGuestMemfd {
    uint64_t size;
    uint64_t flags;
    uint64_t reserved[6];
};
static_assert(sizeof(CreateGuestMemfd) == 64);

struct PreFaultMemory {
    uint64_t gpa;
    uint64_t size;
    uint64_t flags;
    uint64_t padding[5];
};
static_assert(sizeof(PreFaultMemory) == 64);

struct MemoryAttributes {
    uint64_t address;
    uint64_t size;
    uint64_t attributes;
    uint64_t flags;
};
static_assert(sizeof(MemoryAttributes) == 32);

// kvm_run.memory_fault (KVM_EXIT_MEMORY_FAULT), absent from the 6.1 kvm_run union.
struct MemoryFaultExit {
    uint64_t flags;
    uint64_t gpa;
    uint64_t size;
};
static_assert(sizeof(MemoryFaultExit) == 24);

// Structs that 6.1 already has: pin their sizes so a header drift is caught at build time.
static_assert(sizeof(kvm_userspace_memory_region) == 32);
static_assert(sizeof(kvm_irqfd) == 32);
static_assert(sizeof(kvm_ioeventfd) == 64);
static_assert(sizeof(kvm_dirty_log) == 16);
static_assert(sizeof(kvm_clear_dirty_log) == 24);
static_assert(sizeof(kvm_enable_cap) == 104);
static_assert(sizeof(kvm_regs) == 144);
static_assert(sizeof(kvm_sregs) == 312);
static_assert(sizeof(kvm_segment) == 24);
static_assert(sizeof(kvm_cpuid_entry2) == 40);
static_assert(sizeof(kvm_irq_routing_entry) == 48);
static_assert(sizeof(kvm_stats_header) == 24);
static_assert(sizeof(kvm_run) == 2352);

inline constexpr unsigned long kSetUserMemoryRegion2 = _IOW(KVMIO, 0x49, UserspaceMemoryRegion2);
inline constexpr unsigned long kSetMemoryAttributes = _IOW(KVMIO, 0xd2, MemoryAttributes);
inline constexpr unsigned long kCreateGuestMemfd = _IOWR(KVMIO, 0xd4, CreateGuestMemfd);
inline constexpr unsigned long kPreFaultMemory = _IOWR(KVMIO, 0xd5, PreFaultMemory);
static_assert(kSetUserMemoryRegion2 == 0x40A0AE49);
static_assert(kSetMemoryAttributes == 0x4020AED2);
static_assert(kCreateGuestMemfd == 0xC040AED4);
static_assert(kPreFaultMemory == 0xC040AED5);
static_assert(KVM_IRQFD == 0x4020AE76);
static_assert(KVM_SIGNAL_MSI == 0x4020AEA5 && sizeof(kvm_msi) == 32);
inline constexpr int kCapSignalMsi = 77;  // KVM_CAP_SIGNAL_MSI

// Structs that end in __DECLARE_FLEX_ARRAY: in C++ that macro puts an empty struct (1 byte)
// before the array, which moves the array (kvm_cpuid2.entries to offset 12, kvm_stats_desc.name
// to 20) and changes the size encoded in the ioctl numbers, so the kernel answers EINVAL. We use
// these fixed headers instead; the flexible part follows each one directly.
struct Cpuid2Header {
    uint32_t nent;
    uint32_t padding;
};
static_assert(sizeof(Cpuid2Header) == 8);

struct IrqRoutingHeader {
    uint32_t nr;
    uint32_t flags;
};
static_assert(sizeof(IrqRoutingHeader) == 8);

struct StatsDesc {
    uint32_t flags;
    int16_t exponent;
    uint16_t size;
    uint32_t offset;
    uint32_t bucket_size;
    // char name[header.name_size] follows
};
static_assert(sizeof(StatsDesc) == 16);

inline constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
inline constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
inline constexpr unsigned long kSetGsiRouting = _IOC(_IOC_WRITE, KVMIO, 0x6a, 8);
static_assert(kGetSupportedCpuid == 0xC008AE05);
static_assert(kSetCpuid2 == 0x4008AE90);
static_assert(kSetGsiRouting == 0x4008AE6A);

// Memslot flags.
inline constexpr uint32_t kMemLogDirtyPages = 1u << 0;
inline constexpr uint32_t kMemReadonly = 1u << 1;
inline constexpr uint32_t kMemGuestMemfd = 1u << 2;
static_assert(kMemLogDirtyPages == KVM_MEM_LOG_DIRTY_PAGES && kMemReadonly == KVM_MEM_READONLY);

// guest_memfd flags (KVM_CAP_GUEST_MEMFD_FLAGS reports the supported mask).
inline constexpr uint64_t kGuestMemfdFlagMmap = 1u << 0;
inline constexpr uint64_t kGuestMemfdFlagInitShared = 1u << 1;

inline constexpr uint64_t kMemoryAttributePrivate = 1u << 3;

// Capabilities newer than 6.1.
inline constexpr int kCapUserMemory2 = 231;
inline constexpr int kCapMemoryFaultInfo = 232;
inline constexpr int kCapMemoryAttributes = 233;
inline constexpr int kCapGuestMemfd = 234;
inline constexpr int kCapVmTypes = 235;
inline constexpr int kCapPreFaultMemory = 236;
inline constexpr int kCapGuestMemfdFlags = 244;
// KVM_ENABLE_CAP on a VM with args[0] = quirks to disable; KVM_CHECK_EXTENSION gives the mask.
inline constexpr int kCapDisableQuirks2 = 213;
// Deleting/moving a memslot of a default VM zaps every root (kvm_mmu_zap_all_fast) while this
// quirk is on (the default, since 6.12); disabled, only the slot's mappings are zapped.
inline constexpr uint64_t kQuirkSlotZapAll = 1u << 7;
static_assert(kCapDisableQuirks2 == KVM_CAP_DISABLE_QUIRKS2);
static_assert(kQuirkSlotZapAll == KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS << 1,
              "SLOT_ZAP_ALL is the quirk after MWAIT_NEVER_UD_FAULTS (6.1 headers lack it)");

inline constexpr uint32_t kExitMemoryFault = 39;

// x86 VM types (KVM_CREATE_VM argument; KVM_CAP_VM_TYPES bit n = type n exists).
enum class VmType : unsigned long {
    Default = 0,
    SwProtected = 1,
    Sev = 2,
    SevEs = 3,
    Snp = 4,
    Tdx = 5,
};
inline constexpr unsigned long kMaxVmType = 5;

}  // namespace kvmrace::uapi

// ==== Confidential VMs (SEV, SEV-ES, SNP, TDX): v6.18.2 uapi ====================================
// From arch/x86/include/uapi/asm/kvm.h and include/uapi/linux/psp-sev.h of v6.18.2. Field names
// are the kernel's, so tests/unit/coco_uapi_test.cpp can check every size, offset and ioctl
// number against a kernel tree's installed headers (KVMRACE_KERNEL_HEADERS).
#include <cstddef>

namespace kvmrace::uapi {

// KVM_MEMORY_ENCRYPT_OP takes a pointer to kvm_sev_cmd (VM fd) or kvm_tdx_cmd (VM or vCPU fd).
inline constexpr unsigned long kMemoryEncryptOp = _IOWR(KVMIO, 0xba, unsigned long);
static_assert(kMemoryEncryptOp == 0xC008AEBA);

// enum sev_cmd_id (the subset kvmrace issues).
enum SevCmdId : uint32_t {
    kSevLaunchStart = 2,
    kSevLaunchUpdateData = 3,
    kSevLaunchUpdateVmsa = 4,
    kSevLaunchMeasure = 6,
    kSevLaunchFinish = 7,
    kSevGuestStatus = 16,
    kSevInit2 = 22,
    kSevSnpLaunchStart = 100,
    kSevSnpLaunchUpdate = 101,
    kSevSnpLaunchFinish = 102,
};

struct SevCmd {
    uint32_t id;
    uint32_t pad0;
    uint64_t data;
    uint32_t error;  // firmware status (SEV_RET_*) when the command reached the PSP
    uint32_t sev_fd;
};
static_assert(sizeof(SevCmd) == 24);
static_assert(offsetof(SevCmd, data) == 8 && offsetof(SevCmd, error) == 16);
static_assert(offsetof(SevCmd, sev_fd) == 20);

struct SevInit {
    uint64_t vmsa_features;
    uint32_t flags;
    uint16_t ghcb_version;
    uint16_t pad1;
    uint32_t pad2[8];
};
static_assert(sizeof(SevInit) == 48);
static_assert(offsetof(SevInit, flags) == 8 && offsetof(SevInit, ghcb_version) == 12);
static_assert(offsetof(SevInit, pad2) == 16);

struct SevLaunchStart {
    uint32_t handle;
    uint32_t policy;
    uint64_t dh_uaddr;
    uint32_t dh_len;
    uint32_t pad0;
    uint64_t session_uaddr;
    uint32_t session_len;
    uint32_t pad1;
};
static_assert(sizeof(SevLaunchStart) == 40);
static_assert(offsetof(SevLaunchStart, policy) == 4 && offsetof(SevLaunchStart, dh_uaddr) == 8);
static_assert(offsetof(SevLaunchStart, dh_len) == 16);
static_assert(offsetof(SevLaunchStart, session_uaddr) == 24);
static_assert(offsetof(SevLaunchStart, session_len) == 32);

struct SevLaunchUpdateData {
    uint64_t uaddr;
    uint32_t len;
    uint32_t pad0;
};
static_assert(sizeof(SevLaunchUpdateData) == 16 && offsetof(SevLaunchUpdateData, len) == 8);

struct SevLaunchMeasure {
    uint64_t uaddr;
    uint32_t len;
    uint32_t pad0;
};
static_assert(sizeof(SevLaunchMeasure) == 16 && offsetof(SevLaunchMeasure, len) == 8);

struct SevGuestStatus {
    uint32_t handle;
    uint32_t policy;
    uint32_t state;
};
static_assert(sizeof(SevGuestStatus) == 12 && offsetof(SevGuestStatus, state) == 8);

struct SnpLaunchStart {
    uint64_t policy;
    uint8_t gosvw[16];
    uint16_t flags;
    uint8_t pad0[6];
    uint64_t pad1[4];
};
static_assert(sizeof(SnpLaunchStart) == 64);
static_assert(offsetof(SnpLaunchStart, gosvw) == 8 && offsetof(SnpLaunchStart, flags) == 24);
static_assert(offsetof(SnpLaunchStart, pad1) == 32);

// Page types (KVM_SEV_SNP_PAGE_TYPE_*, the firmware's values).
inline constexpr uint8_t kSnpPageTypeNormal = 1;
inline constexpr uint8_t kSnpPageTypeZero = 3;
inline constexpr uint8_t kSnpPageTypeUnmeasured = 4;
inline constexpr uint8_t kSnpPageTypeSecrets = 5;
inline constexpr uint8_t kSnpPageTypeCpuid = 6;

// KVM_SEV_SNP_LAUNCH_UPDATE: on return gfn_start/uaddr/len describe what is left.
struct SnpLaunchUpdate {
    uint64_t gfn_start;
    uint64_t uaddr;
    uint64_t len;
    uint8_t type;
    uint8_t pad0;
    uint16_t flags;
    uint32_t pad1;
    uint64_t pad2[4];
};
static_assert(sizeof(SnpLaunchUpdate) == 64);
static_assert(offsetof(SnpLaunchUpdate, uaddr) == 8 && offsetof(SnpLaunchUpdate, len) == 16);
static_assert(offsetof(SnpLaunchUpdate, type) == 24 && offsetof(SnpLaunchUpdate, flags) == 26);
static_assert(offsetof(SnpLaunchUpdate, pad2) == 32);

struct SnpLaunchFinish {
    uint64_t id_block_uaddr;
    uint64_t id_auth_uaddr;
    uint8_t id_block_en;
    uint8_t auth_key_en;
    uint8_t vcek_disabled;
    uint8_t host_data[32];
    uint8_t pad0[3];
    uint16_t flags;
    uint64_t pad1[4];
};
static_assert(sizeof(SnpLaunchFinish) == 88);
static_assert(offsetof(SnpLaunchFinish, id_auth_uaddr) == 8);
static_assert(offsetof(SnpLaunchFinish, id_block_en) == 16);
static_assert(offsetof(SnpLaunchFinish, vcek_disabled) == 18);
static_assert(offsetof(SnpLaunchFinish, host_data) == 19);
static_assert(offsetof(SnpLaunchFinish, flags) == 54 && offsetof(SnpLaunchFinish, pad1) == 56);

// SNP guest policy: bit 17 is reserved-must-be-one, bit 16 allows SMT (SNP_POLICY_MASK_*).
inline constexpr uint64_t kSnpPolicySmt = 1ull << 16;
inline constexpr uint64_t kSnpPolicyRsvdMbo = 1ull << 17;

// enum kvm_tdx_cmd_id.
enum TdxCmdId : uint32_t {
    kTdxCapabilities = 0,
    kTdxInitVm = 1,
    kTdxInitVcpu = 2,
    kTdxInitMemRegion = 3,
    kTdxFinalizeVm = 4,
    kTdxGetCpuid = 5,
};

struct TdxCmd {
    uint32_t id;
    uint32_t flags;
    uint64_t data;
    uint64_t hw_error;  // the TDX module's SEAMCALL status, when it got that far
};
static_assert(sizeof(TdxCmd) == 24);
static_assert(offsetof(TdxCmd, flags) == 4 && offsetof(TdxCmd, data) == 8);
static_assert(offsetof(TdxCmd, hw_error) == 16);

// kvm_tdx_capabilities and kvm_tdx_init_vm end in a struct kvm_cpuid2 (a flexible array: see
// the note above Cpuid2Header); the entries follow `cpuid` directly.
struct TdxCapabilities {
    uint64_t supported_attrs;
    uint64_t supported_xfam;
    uint64_t kernel_tdvmcallinfo_1_r11;
    uint64_t user_tdvmcallinfo_1_r11;
    uint64_t kernel_tdvmcallinfo_1_r12;
    uint64_t user_tdvmcallinfo_1_r12;
    uint64_t reserved[250];
    Cpuid2Header cpuid;
};
static_assert(sizeof(TdxCapabilities) == 2056);
static_assert(offsetof(TdxCapabilities, supported_xfam) == 8);
static_assert(offsetof(TdxCapabilities, user_tdvmcallinfo_1_r12) == 40);
static_assert(offsetof(TdxCapabilities, reserved) == 48);
static_assert(offsetof(TdxCapabilities, cpuid) == 2048);

struct TdxInitVm {
    uint64_t attributes;
    uint64_t xfam;
    uint64_t mrconfigid[6];
    uint64_t mrowner[6];
    uint64_t mrownerconfig[6];
    uint64_t reserved[12];
    Cpuid2Header cpuid;
};
static_assert(sizeof(TdxInitVm) == 264);
static_assert(offsetof(TdxInitVm, xfam) == 8 && offsetof(TdxInitVm, mrconfigid) == 16);
static_assert(offsetof(TdxInitVm, mrowner) == 64 && offsetof(TdxInitVm, mrownerconfig) == 112);
static_assert(offsetof(TdxInitVm, reserved) == 160 && offsetof(TdxInitVm, cpuid) == 256);

// KVM_TDX_INIT_MEM_REGION (vCPU fd): on return source_addr/gpa/nr_pages describe what is left.
struct TdxInitMemRegion {
    uint64_t source_addr;
    uint64_t gpa;
    uint64_t nr_pages;
};
static_assert(sizeof(TdxInitMemRegion) == 24);
static_assert(offsetof(TdxInitMemRegion, gpa) == 8 && offsetof(TdxInitMemRegion, nr_pages) == 16);
inline constexpr uint32_t kTdxMeasureMemoryRegion = 1u << 0;

// kvm_run exits of confidential guests.
inline constexpr uint32_t kExitTdx = 40;
inline constexpr uint32_t kSystemEventSevTerm = 6;
inline constexpr uint32_t kSystemEventTdxFatal = 7;

// /dev/sev (include/uapi/linux/psp-sev.h): SEV_ISSUE_CMD and the two status commands.
#pragma pack(push, 1)
struct SevIssueCmd {
    uint32_t cmd;
    uint64_t data;
    uint32_t error;
};
struct SevUserDataStatus {
    uint8_t api_major;
    uint8_t api_minor;
    uint8_t state;
    uint32_t flags;
    uint8_t build;
    uint32_t guest_count;
};
struct SevUserDataSnpStatus {
    uint8_t api_major;
    uint8_t api_minor;
    uint8_t state;
    uint8_t is_rmp_initialized;  // bit 0; bits 1..7 reserved
    uint32_t build_id;
    uint32_t feature_bits;  // mask_chip_id, mask_chip_key, vlek_en, feature_info, ... (bits 0..6)
    uint32_t guest_count;
    uint64_t current_tcb_version;
    uint64_t reported_tcb_version;
};
#pragma pack(pop)
static_assert(sizeof(SevIssueCmd) == 16);
static_assert(offsetof(SevIssueCmd, data) == 4 && offsetof(SevIssueCmd, error) == 12);
static_assert(sizeof(SevUserDataStatus) == 12);
static_assert(offsetof(SevUserDataStatus, flags) == 3 && offsetof(SevUserDataStatus, build) == 7);
static_assert(offsetof(SevUserDataStatus, guest_count) == 8);
static_assert(sizeof(SevUserDataSnpStatus) == 32);
static_assert(offsetof(SevUserDataSnpStatus, build_id) == 4);
static_assert(offsetof(SevUserDataSnpStatus, guest_count) == 12);
static_assert(offsetof(SevUserDataSnpStatus, current_tcb_version) == 16);

inline constexpr unsigned long kSevIssueCmd = _IOWR('S', 0x0, SevIssueCmd);
static_assert(kSevIssueCmd == 0xC0105300);
inline constexpr uint32_t kSevPlatformStatus = 1;
inline constexpr uint32_t kSnpPlatformStatus = 9;

// SEV/SEV-ES: pin the guest's memory (KVM_MEMORY_ENCRYPT_REG_REGION, in the 6.1 headers).
static_assert(sizeof(kvm_enc_region) == 16 && KVM_MEMORY_ENCRYPT_REG_REGION == 0x8010aebb);

}  // namespace kvmrace::uapi
// ==== end of the confidential-VM block ===========================================================
