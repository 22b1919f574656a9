// Thrown when an ioctl or syscall that must succeed fails: carries the call's name, errno and the
// arguments that were passed, so a failure message reads like the kernel developer's bug report.
#pragma once

#include <stdexcept>
#include <string>

namespace kvmrace {

class KvmError : public std::runtime_error {
public:
    KvmError(std::string call, int err, std::string context);

    const std::string& call() const { return call_; }
    int err() const { return err_; }
    const std::string& context() const { return context_; }

private:
    std::string call_;
    int err_;
    std::string context_;
};

}  // namespace kvmrace
