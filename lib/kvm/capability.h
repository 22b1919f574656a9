// KVM capabilities by name and number, for KVM_CHECK_EXTENSION and the `kvmrace --caps` table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kvm/uapi.h"

namespace kvmrace {

struct Capability {
    std::string_view name;  // without the KVM_CAP_ prefix
    int number;
    bool per_vm;  // also meaningful as a VM ioctl (KVM_CHECK_EXTENSION on the VM fd)
};

// Every capability kvmrace knows, in ascending number.
std::span<const Capability> known_capabilities();
std::optional<Capability> capability_by_name(std::string_view name);
std::optional<Capability> capability_by_number(int number);
// The SKIP reason for a capability's value: "KVM_CAP_PRE_FAULT_MEMORY=0 (cap 236)".
std::string capability_reason(int number, int value);
// A VM type by its uapi name without the KVM_X86_ prefix and _VM suffix: "SW_PROTECTED".
std::string_view vm_type_name(uapi::VmType t);

}  // namespace kvmrace
