#include "kvm/system.h"

#include <fcntl.h>

#include <fmt/format.h>

#include "kvm/ioctl.h"
#include "kvm/vm.h"

namespace kvmrace {

System::System(const std::string& device) : device_(device) {
    fd_.reset(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd_.valid()) throw KvmError("open", errno, device);
}

Errno System::probe(const std::string& device) {
    UniqueFd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    return Errno{fd.valid() ? 0 : errno};
}

int System::api_version() const {
    return checked_ioctl(fd(), KVM_GET_API_VERSION, "KVM_GET_API_VERSION", 0);
}

int System::check_extension(int cap) const {
    return checked_ioctl(fd(), KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION", cap,
                         fmt::format("cap={}", cap));
}

size_t System::vcpu_mmap_size() const {
    return static_cast<size_t>(
        checked_ioctl(fd(), KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE", 0));
}

unsigned long System::vm_types() const {
    return static_cast<unsigned long>(check_extension(uapi::kCapVmTypes)) | 1ul;
}

const std::vector<kvm_cpuid_entry2>& System::supported_cpuid() const {
    if (!cpuid_.empty()) return cpuid_;
    // Grow the buffer until the kernel stops answering E2BIG.
    for (size_t n = 64;; n *= 2) {
        std::vector<uint8_t> buf(sizeof(uapi::Cpuid2Header) + n * sizeof(kvm_cpuid_entry2));
        auto* c = reinterpret_cast<uapi::Cpuid2Header*>(buf.data());
        c->nent = static_cast<uint32_t>(n);
        Errno e = try_ioctl(fd(), uapi::kGetSupportedCpuid, c);
        if (e == E2BIG && n < 4096) continue;
        if (!e.ok()) throw KvmError("KVM_GET_SUPPORTED_CPUID", e.value, fmt::format("nent={}", n));
        auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(c + 1);
        cpuid_.assign(entries, entries + c->nent);
        return cpuid_;
    }
}

Vm System::create_vm(uapi::VmType type) const {
    // An interrupted creation (EINTR: a signal arrived, e.g. SIGCHLD of a scenario child) is
    // simply retried; every other errno throws.
    int vmfd;
    do {
        vmfd = ::ioctl(fd(), KVM_CREATE_VM, static_cast<unsigned long>(type));
    } while (vmfd < 0 && errno == EINTR);
    if (vmfd < 0)
        throw KvmError("KVM_CREATE_VM", errno,
                       fmt::format("type={}", static_cast<unsigned long>(type)));
    return Vm(*this, UniqueFd(vmfd), type);
}

Errno System::try_create_vm(unsigned long type) const {
    int vmfd = ::ioctl(fd(), KVM_CREATE_VM, type);
    if (vmfd < 0) return Errno{errno};
    ::close(vmfd);
    return {};
}

}  // namespace kvmrace
