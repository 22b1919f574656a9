// The outcome of a call that a test expects may fail: 0 on success, else the errno it set.
#pragma once

#include <ostream>
#include <string>

namespace kvmrace {

struct Errno {
    int value = 0;

    bool ok() const { return value == 0; }
    bool operator==(const Errno&) const = default;
    bool operator==(int e) const { return value == e; }
    // "EINVAL (Invalid argument)", or "success".
    std::string describe() const;
};

inline std::ostream& operator<<(std::ostream& os, const Errno& e) { return os << e.describe(); }

// Symbolic name of an errno value ("EAGAIN"); "E<n>" for values without one.
std::string errno_name(int e);

}  // namespace kvmrace
