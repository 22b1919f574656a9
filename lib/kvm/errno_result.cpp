#include "kvm/errno_result.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

std::string errno_name(int e) {
    // The errnos KVM and the syscalls we use can return; the rest print numerically.
    switch (e) {
        case 0: return "0";
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case EINTR: return "EINTR";
        case EIO: return "EIO";
        case ENXIO: return "ENXIO";
        case E2BIG: return "E2BIG";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case ENODEV: return "ENODEV";
        case EINVAL: return "EINVAL";
        case ENOSPC: return "ENOSPC";
        case ENOTTY: return "ENOTTY";
        case ERANGE: return "ERANGE";
        case ENOSYS: return "ENOSYS";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ESRCH: return "ESRCH";
        case EHWPOISON: return "EHWPOISON";
        default: return fmt::format("E{}", e);
    }
}

std::string Errno::describe() const {
    if (value == 0) return "success";
    return fmt::format("{} ({})", errno_name(value), std::strerror(value));
}

}  // namespace kvmrace
