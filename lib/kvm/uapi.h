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
