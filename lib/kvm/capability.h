// KVM capabilities by name and number, for KVM_CHECK_EXTENSION and the `kvmrace --caps` table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

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

}  // namespace kvmrace
