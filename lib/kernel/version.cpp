#include "kernel/version.h"

#include <sys/utsname.h>

#include <charconv>

#include <fmt/format.h>

namespace kvmrace {

std::string KernelVersion::str() const { return fmt::format("{}.{}.{}", major, minor, patch); }

std::optional<KernelVersion> KernelVersion::parse(std::string_view s) {
    KernelVersion v;
    int* fields[] = {&v.major, &v.minor, &v.patch};
    const char* p = s.data();
    const char* end = s.data() + s.size();
    for (int i = 0; i < 3; ++i) {
        auto [next, ec] = std::from_chars(p, end, *fields[i]);
        if (ec != std::errc()) {
            if (i < 2) return std::nullopt;
            break;
        }
        p = next;
        if (i < 2) {
            if (p == end || *p != '.') return i == 1 ? std::optional(v) : std::nullopt;
            ++p;
        }
    }
    return v;
}

KernelVersion KernelVersion::running() {
    utsname u{};
    if (::uname(&u) != 0) return {};
    return parse(u.release).value_or(KernelVersion{});
}

}  // namespace kvmrace
