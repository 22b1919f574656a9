#include "report/caps_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "kernel/version.h"
#include "kvm/capability.h"
#include "kvm/ioctl.h"
#include "kvm/system.h"
#include "kvm/vm.h"

namespace kvmrace {

void print_caps_table(const System& system, std::FILE* out) {
    Vm vm = system.create_vm();
    fmt::print(out, "kernel {}  {}  KVM API {}\n", KernelVersion::running().str(), system.device(),
               system.api_version());
    // The name column is as wide as the longest name (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2).
    size_t width = 4;
    for (const Capability& c : known_capabilities())
        width = std::max(width, fmt::format("KVM_CAP_{}", c.name).size());
    fmt::print(out, "{:>4}  {:<{}} {:>10} {:>10}\n", "cap", "name", width, "system", "vm");
    for (const Capability& c : known_capabilities()) {
        std::string vm_value = "-";
        if (c.per_vm) vm_value = fmt::format("{:#x}", vm.check_extension(c.number));
        fmt::print(out, "{:>4}  {:<{}} {:>10} {:>10}\n", c.number,
                   fmt::format("KVM_CAP_{}", c.name), width,
                   fmt::format("{:#x}", system.check_extension(c.number)), vm_value);
    }
    unsigned long types = system.vm_types();
    std::string list;
    for (unsigned long t = 0; t <= uapi::kMaxVmType; ++t)
        if (types & (1ul << t)) list += fmt::format("{}{}", list.empty() ? "" : ",", t);
    fmt::print(out, "VM types: {}\n", list);
}

}  // namespace kvmrace
