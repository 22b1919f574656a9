// Reads new /dev/kmsg records during a scenario and recognizes kernel splats in them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kvm/unique_fd.h"

namespace kvmrace {

class KernelLog {
public:
    // Opens /dev/kmsg positioned at its end; unreadable (not root, no device) leaves it inert:
    // drain() then returns nothing.
    explicit KernelLog(const char* path = "/dev/kmsg");
    // Every record logged since the last call (message text only, continuation lines joined).
    std::vector<std::string> drain();

private:
    UniqueFd fd_;
};

// Why the kernel log cannot be read, so splats go unseen ("/dev/kmsg: Operation not permitted
// (kernel.dmesg_restrict=1 needs CAP_SYSLOG)"); empty when it can.
std::string kernel_log_unreadable(const char* path = "/dev/kmsg");

// Is this kernel log line a splat: WARNING, BUG, Oops, lockdep, hung task, RCU stall, soft
// lockup, KASAN/UBSAN?
bool is_splat(std::string_view line);

}  // namespace kvmrace
