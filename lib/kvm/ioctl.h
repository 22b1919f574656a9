// The two call styles: checked_ioctl() throws KvmError naming the ioctl, errno and arguments;
// try_ioctl() hands the errno back for tests that expect a failure.
#pragma once

#include <sys/ioctl.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "kvm/errno_result.h"
#include "kvm/kvm_error.h"

namespace kvmrace {

template <typename Arg>
Errno try_ioctl(int fd, unsigned long request, Arg arg) {
    int r = ::ioctl(fd, request, arg);
    return Errno{r < 0 ? errno : 0};
}

// For ioctls whose non-negative return value carries data (KVM_CHECK_EXTENSION, KVM_CREATE_VM).
template <typename Arg>
int checked_ioctl(int fd, unsigned long request, std::string_view name, Arg arg,
                  const std::string& context = {}) {
    int r = ::ioctl(fd, request, arg);
    if (r < 0) throw KvmError(std::string(name), errno, context);
    return r;
}

}  // namespace kvmrace
