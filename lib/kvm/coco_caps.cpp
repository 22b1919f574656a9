#include "kvm/coco_caps.h"

#include <fcntl.h>

#include <fstream>

#include <fmt/format.h>

#include "kvm/capability.h"
#include "kvm/system.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

uapi::VmType coco_vm_type(CocoKind k) {
    switch (k) {
        case CocoKind::Sev: return uapi::VmType::Sev;
        case CocoKind::SevEs: return uapi::VmType::SevEs;
        case CocoKind::Snp: return uapi::VmType::Snp;
        case CocoKind::Tdx: return uapi::VmType::Tdx;
    }
    return uapi::VmType::Default;
}

std::string_view coco_name(CocoKind k) {
    switch (k) {
        case CocoKind::Sev: return "SEV";
        case CocoKind::SevEs: return "SEV-ES";
        case CocoKind::Snp: return "SNP";
        case CocoKind::Tdx: return "TDX";
    }
    return "?";
}

bool is_sev_family(CocoKind k) { return k != CocoKind::Tdx; }

std::string ModuleParam::describe() const {
    if (value) return fmt::format("{}.{}={}", module, name, *value);
    if (read_error == ENOENT) return fmt::format("{}.{}: module not loaded", module, name);
    return fmt::format("{}.{}: {}", module, name, read_error.describe());
}

ModuleParam read_module_param(const std::string& root, std::string module, std::string name) {
    ModuleParam p{std::move(module), std::move(name), std::nullopt, {}};
    const std::string path = fmt::format("{}/{}/parameters/{}", root, p.module, p.name);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        p.read_error = Errno{errno};
        return p;
    }
    char buf[64];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n < 0) {
        p.read_error = Errno{errno};
        return p;
    }
    std::string v(buf, static_cast<size_t>(n));
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    p.value = v;
    return p;
}

const ModuleParam& CocoHost::param_for(CocoKind k) const {
    switch (k) {
        case CocoKind::Sev: return sev;
        case CocoKind::SevEs: return sev_es;
        case CocoKind::Snp: return sev_snp;
        case CocoKind::Tdx: return tdx;
    }
    return sev;
}

CocoHost probe_coco_host(const System& sys, const std::string& root,
                         const std::string& sev_device) {
    CocoHost h;
    h.vm_types = sys.vm_types();
    h.sev = read_module_param(root, "kvm_amd", "sev");
    h.sev_es = read_module_param(root, "kvm_amd", "sev_es");
    h.sev_snp = read_module_param(root, "kvm_amd", "sev_snp");
    h.tdx = read_module_param(root, "kvm_intel", "tdx");
    UniqueFd fd(::open(sev_device.c_str(), O_RDWR | O_CLOEXEC));
    h.sev_device = Errno{fd.valid() ? 0 : errno};
    return h;
}

std::string coco_missing(CocoKind k, const CocoHost& h) {
    const auto type = static_cast<unsigned long>(coco_vm_type(k));
    const ModuleParam& param = h.param_for(k);
    if (!(h.vm_types & (1ul << type))) {
        std::string why = fmt::format("VM type {} ({}) not in KVM_CAP_VM_TYPES={:#x}", type,
                                      coco_name(k), h.vm_types);
        // The module parameter is the usual reason; say so when it is off or absent.
        if (!param.enabled()) why += "; " + param.describe();
        return why;
    }
    if (is_sev_family(k) && !h.sev_device.ok())
        return fmt::format("/dev/sev: {}: the SEV launch commands need an fd of it",
                           h.sev_device.describe());
    return "";
}

}  // namespace kvmrace
