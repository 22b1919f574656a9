// The running kernel's version, for tests whose expected behaviour changed in a known release.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace kvmrace {

struct KernelVersion {
    int major = 0, minor = 0, patch = 0;

    auto operator<=>(const KernelVersion&) const = default;
    std::string str() const;

    // "6.18.44-fc-v595" -> 6.18.44; nullopt if it does not start with N.N
    static std::optional<KernelVersion> parse(std::string_view release);
    static KernelVersion running();  // from uname(2); 0.0.0 if unparsable
};

}  // namespace kvmrace
