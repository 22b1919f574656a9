#include "kvm/capability.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "kvm/uapi.h"

namespace kvmrace {

namespace {

constexpr std::array kCapabilities{
    Capability{"IRQCHIP", KVM_CAP_IRQCHIP, false},
    Capability{"HLT", KVM_CAP_HLT, false},
    Capability{"USER_MEMORY", KVM_CAP_USER_MEMORY, false},
    Capability{"NR_VCPUS", KVM_CAP_NR_VCPUS, true},
    Capability{"NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS, true},
    Capability{"SYNC_MMU", KVM_CAP_SYNC_MMU, false},
    Capability{"IRQFD", KVM_CAP_IRQFD, false},
    Capability{"IOEVENTFD", KVM_CAP_IOEVENTFD, false},
    Capability{"MAX_VCPUS", KVM_CAP_MAX_VCPUS, true},
    Capability{"READONLY_MEM", KVM_CAP_READONLY_MEM, true},
    Capability{"ENABLE_CAP_VM", KVM_CAP_ENABLE_CAP_VM, false},
    Capability{"X2APIC_API", KVM_CAP_X2APIC_API, false},
    Capability{"IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT, false},
    Capability{"MANUAL_DIRTY_LOG_PROTECT2", KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, true},
    Capability{"DIRTY_LOG_RING", KVM_CAP_DIRTY_LOG_RING, true},
    Capability{"BINARY_STATS_FD", KVM_CAP_BINARY_STATS_FD, false},
    Capability{"USER_MEMORY2", uapi::kCapUserMemory2, true},
    Capability{"MEMORY_FAULT_INFO", uapi::kCapMemoryFaultInfo, false},
    Capability{"MEMORY_ATTRIBUTES", uapi::kCapMemoryAttributes, true},
    Capability{"GUEST_MEMFD", uapi::kCapGuestMemfd, true},
    Capability{"VM_TYPES", uapi::kCapVmTypes, false},
    Capability{"PRE_FAULT_MEMORY", uapi::kCapPreFaultMemory, true},
    Capability{"GUEST_MEMFD_FLAGS", uapi::kCapGuestMemfdFlags, true},
};
static_assert(std::is_sorted(kCapabilities.begin(), kCapabilities.end(),
                             [](const Capability& a, const Capability& b) {
                                 return a.number < b.number;
                             }));

}  // namespace

std::span<const Capability> known_capabilities() { return kCapabilities; }

std::optional<Capability> capability_by_name(std::string_view name) {
    if (name.starts_with("KVM_CAP_")) name.remove_prefix(8);
    for (const auto& c : kCapabilities)
        if (c.name == name) return c;
    return std::nullopt;
}

std::optional<Capability> capability_by_number(int number) {
    for (const auto& c : kCapabilities)
        if (c.number == number) return c;
    return std::nullopt;
}

std::string capability_reason(int number, int value) {
    auto c = capability_by_number(number);
    return fmt::format("KVM_CAP_{}={} (cap {})", c ? c->name : "?", value, number);
}

std::string_view vm_type_name(uapi::VmType t) {
    switch (t) {
        case uapi::VmType::Default: return "DEFAULT";
        case uapi::VmType::SwProtected: return "SW_PROTECTED";
        case uapi::VmType::Sev: return "SEV";
        case uapi::VmType::SevEs: return "SEV_ES";
        case uapi::VmType::Snp: return "SNP";
        case uapi::VmType::Tdx: return "TDX";
    }
    return "?";
}

}  // namespace kvmrace
