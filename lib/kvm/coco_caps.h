// The skip model for confidential VMs: what this host has (VM types, kvm_amd/kvm_intel module
// parameters, /dev/sev) and, per VM type, the exact piece that is missing. Probing and judging are
// separate so every answer of the judge is unit-tested without the hardware.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kvm/errno_result.h"
#include "kvm/uapi.h"

namespace kvmrace {

class System;

enum class CocoKind { Sev, SevEs, Snp, Tdx };

uapi::VmType coco_vm_type(CocoKind k);
std::string_view coco_name(CocoKind k);  // "SEV", "SEV-ES", "SNP", "TDX"
bool is_sev_family(CocoKind k);

// One module parameter as read from /sys/module/<module>/parameters/<name>.
struct ModuleParam {
    std::string module, name;
    std::optional<std::string> value;  // nullopt: not readable (module not loaded)
    Errno read_error;

    bool enabled() const { return value && (*value == "Y" || *value == "1"); }
    std::string describe() const;  // "kvm_amd.sev_snp=N", "kvm_amd.sev_snp: module not loaded"
};

struct CocoHost {
    unsigned long vm_types = 1;  // KVM_CAP_VM_TYPES
    ModuleParam sev, sev_es, sev_snp, tdx;
    Errno sev_device;  // errno of opening /dev/sev read-write

    const ModuleParam& param_for(CocoKind k) const;
};

// Reads the parameters under `sysfs_module_root` (default /sys/module) and opens `sev_device`.
CocoHost probe_coco_host(const System& sys, const std::string& sysfs_module_root = "/sys/module",
                         const std::string& sev_device = "/dev/sev");
ModuleParam read_module_param(const std::string& root, std::string module, std::string name);

// "" when a VM of this kind can be created and launched here, else the missing piece, first the
// one KVM reports (the VM type bit) with the reason behind it (module parameter), then /dev/sev:
//   "VM type 4 (SNP) not in KVM_CAP_VM_TYPES=0x1; kvm_amd.sev_snp: module not loaded"
//   "/dev/sev: Permission denied (EACCES): the SEV launch commands need an fd of it"
std::string coco_missing(CocoKind k, const CocoHost& h);

}  // namespace kvmrace
