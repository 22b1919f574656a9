#include "kvm/vcpu.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "kvm/ioctl.h"
#include "kvm/vm.h"

namespace kvmrace {

Vcpu::Vcpu(Vm& vm, UniqueFd fd, unsigned id, size_t mmap_size)
    : vm_(&vm),
      fd_(std::move(fd)),
      id_(id),
      run_(Mapping::map(mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get())) {}

Errno Vcpu::try_run() { return try_ioctl(fd(), KVM_RUN, 0); }

void Vcpu::run() {
    Errno e = try_run();
    if (!e.ok()) throw KvmError("KVM_RUN", e.value, fmt::format("vcpu={}", id_));
}

kvm_regs Vcpu::regs() const {
    kvm_regs r{};
    checked_ioctl(fd(), KVM_GET_REGS, "KVM_GET_REGS", &r);
    return r;
}

std::optional<uint64_t> Vcpu::translate(uint64_t gva) const {
    kvm_translation t{};
    t.linear_address = gva;
    if (!try_ioctl(fd(), KVM_TRANSLATE, &t).ok() || !t.valid) return std::nullopt;
    return t.physical_address;
}

void Vcpu::set_regs(const kvm_regs& r) { checked_ioctl(fd(), KVM_SET_REGS, "KVM_SET_REGS", &r); }

kvm_sregs Vcpu::sregs() const {
    kvm_sregs s{};
    checked_ioctl(fd(), KVM_GET_SREGS, "KVM_GET_SREGS", &s);
    return s;
}

void Vcpu::set_sregs(const kvm_sregs& s) {
    checked_ioctl(
        fd(), KVM_SET_SREGS, "KVM_SET_SREGS", &s,
        fmt::format("cr0={:#x} cr3={:#x} cr4={:#x} efer={:#x}", s.cr0, s.cr3, s.cr4, s.efer));
}

void Vcpu::set_cpuid(std::span<const kvm_cpuid_entry2> entries) {
    std::vector<uint8_t> buf(sizeof(uapi::Cpuid2Header) + entries.size_bytes());
    auto* c = reinterpret_cast<uapi::Cpuid2Header*>(buf.data());
    c->nent = static_cast<uint32_t>(entries.size());
    std::memcpy(c + 1, entries.data(), entries.size_bytes());
    checked_ioctl(fd(), uapi::kSetCpuid2, "KVM_SET_CPUID2", c, fmt::format("nent={}", c->nent));
}

PrefaultResult Vcpu::pre_fault(uint64_t gpa, uint64_t size, uint64_t flags) {
    uapi::PreFaultMemory arg{};
    arg.gpa = gpa;
    arg.size = size;
    arg.flags = flags;
    int r = ::ioctl(fd(), uapi::kPreFaultMemory, &arg);
    return PrefaultResult{gpa, size, arg.gpa, arg.size, r, Errno{r < 0 ? errno : 0}};
}

UniqueFd Vcpu::stats_fd() {
    return UniqueFd(checked_ioctl(fd(), KVM_GET_STATS_FD, "KVM_GET_STATS_FD(vcpu)", 0));
}

}  // namespace kvmrace
