#include "kvm/device_probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>

#include <fmt/format.h>

#include "kvm/errno_result.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

std::string not_kvm_reason(const std::string& device) {
    UniqueFd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return {};
    int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
    if (version < 0)
        return fmt::format("{} is not a KVM device: KVM_GET_API_VERSION failed: {}", device,
                           Errno{errno}.describe());
    if (version != KVM_API_VERSION)
        return fmt::format("{} is not a KVM device we know: KVM API version {}, expected {}",
                           device, version, KVM_API_VERSION);
    return {};
}

}  // namespace kvmrace
