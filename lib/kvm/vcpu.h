// A virtual CPU: its fd, its mmapped kvm_run, register state, KVM_RUN and KVM_PRE_FAULT_MEMORY.
#pragma once

#include <linux/kvm.h>

#include <optional>
#include <span>

#include "kvm/errno_result.h"
#include "kvm/exit_reason.h"
#include "kvm/mapping.h"
#include "kvm/uapi.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

class Vm;

// What one KVM_PRE_FAULT_MEMORY call did: the range before and after, and the errno.
struct PrefaultResult {
    uint64_t gpa_before, size_before;
    uint64_t gpa_after, size_after;
    int ret;
    Errno err;

    uint64_t mapped() const { return size_before - size_after; }
};

class Vcpu {
public:
    Vcpu(Vm& vm, UniqueFd fd, unsigned id, size_t mmap_size);

    int fd() const { return fd_.get(); }
    unsigned id() const { return id_; }
    Vm& vm() const { return *vm_; }
    kvm_run& run_state() const { return *reinterpret_cast<kvm_run*>(run_.data()); }
    ExitReason exit_reason() const { return static_cast<ExitReason>(run_state().exit_reason); }

    // KVM_RUN; EINTR (a signal, or immediate_exit) is returned, not thrown.
    Errno try_run();
    void run();  // throws on any errno

    kvm_regs regs() const;
    void set_regs(const kvm_regs& r);
    kvm_sregs sregs() const;
    void set_sregs(const kvm_sregs& s);
    void set_cpuid(std::span<const kvm_cpuid_entry2> entries);
    // KVM_TRANSLATE: the guest-physical address of `gva` in the vCPU's current page tables, or
    // nothing when the guest does not map it (or KVM refuses).
    std::optional<uint64_t> translate(uint64_t gva) const;

    PrefaultResult pre_fault(uint64_t gpa, uint64_t size, uint64_t flags = 0);

    UniqueFd stats_fd();

private:
    Vm* vm_;
    UniqueFd fd_;
    unsigned id_;
    Mapping run_;
};

}  // namespace kvmrace
