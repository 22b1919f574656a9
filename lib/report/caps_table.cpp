#include "report/caps_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "kernel/hypervisor.h"
#include "kernel/version.h"
#include "kvm/capability.h"
#include "kvm/coco_caps.h"
#include "kvm/ioctl.h"
#include "kvm/sev_device.h"
#include "kvm/system.h"
#include "kvm/vm.h"

namespace kvmrace {

namespace {

// Confidential VMs: each type and what it lacks here, /dev/sev with the firmware's API versions,
// and the module parameters behind them.
void print_coco_rows(const System& system, std::FILE* out) {
    CocoHost h = probe_coco_host(system);
    fmt::print(out, "Confidential VMs:\n");
    for (CocoKind k : {CocoKind::Sev, CocoKind::SevEs, CocoKind::Snp, CocoKind::Tdx}) {
        std::string why = coco_missing(k, h);
        fmt::print(out, "  {:<7} type {}  {}\n", coco_name(k),
                   static_cast<unsigned long>(coco_vm_type(k)), why.empty() ? "available" : why);
    }
    std::string dev = h.sev_device.ok() ? "open" : h.sev_device.describe();
    if (h.sev_device.ok()) {
        SevDevice sev;
        auto st = sev.platform_status();
        auto snp = sev.snp_platform_status();
        dev += st ? fmt::format("; SEV API {}", st->str()) : "; SEV_PLATFORM_STATUS failed";
        dev += snp ? fmt::format("; SNP API {}", snp->str()) : "; SNP_PLATFORM_STATUS failed";
    }
    fmt::print(out, "  /dev/sev: {}\n", dev);
    fmt::print(out, "  module parameters: {}, {}, {}, {}\n", h.sev.describe(), h.sev_es.describe(),
               h.sev_snp.describe(), h.tdx.describe());
}

}  // namespace

void print_caps_table(const System& system, std::FILE* out) {
    Vm vm = system.create_vm();
    fmt::print(out, "kernel {}  {}  KVM API {}  on {}\n", KernelVersion::running().str(),
               system.device(), system.api_version(), describe_platform(hypervisor_signature()));
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
    print_coco_rows(system, out);
}

}  // namespace kvmrace
