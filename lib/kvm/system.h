// The KVM subsystem handle (/dev/kvm): capabilities, supported CPUID, VM creation.
#pragma once

#include <linux/kvm.h>

#include <memory>
#include <string>
#include <vector>

#include "kvm/errno_result.h"
#include "kvm/uapi.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

class Vm;

class System {
public:
    // Throws KvmError("open", errno, path) when the device cannot be opened.
    explicit System(const std::string& device = "/dev/kvm");
    // Errno of opening the device, without throwing: ENOENT, EACCES, ...
    static Errno probe(const std::string& device = "/dev/kvm");

    int fd() const { return fd_.get(); }
    const std::string& device() const { return device_; }
    int api_version() const;
    int check_extension(int cap) const;  // 0 when absent
    size_t vcpu_mmap_size() const;
    // KVM_CAP_VM_TYPES bitmask; bit 0 (default VM) is always set, even on kernels without the cap.
    unsigned long vm_types() const;
    const std::vector<kvm_cpuid_entry2>& supported_cpuid() const;

    Vm create_vm(uapi::VmType type = uapi::VmType::Default) const;
    // For tests of KVM_CREATE_VM's errors: the VM fd is closed again on success.
    Errno try_create_vm(unsigned long type) const;

private:
    std::string device_;
    UniqueFd fd_;
    mutable std::vector<kvm_cpuid_entry2> cpuid_;
};

}  // namespace kvmrace
