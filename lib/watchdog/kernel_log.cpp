#include "watchdog/kernel_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace kvmrace {

KernelLog::KernelLog(const char* path) {
    fd_.reset(::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd_.valid()) ::lseek(fd_.get(), 0, SEEK_END);
}

std::vector<std::string> KernelLog::drain() {
    std::vector<std::string> out;
    if (!fd_.valid()) return out;
    std::array<char, 8192> buf;  // /dev/kmsg hands out one record per read, up to 8 KiB
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
        if (n < 0 && errno == EPIPE) continue;  // records were overwritten; keep reading
        if (n <= 0) break;
        std::string_view rec(buf.data(), static_cast<size_t>(n));
        auto semi = rec.find(';');
        if (semi == std::string_view::npos) continue;
        std::string_view text = rec.substr(semi + 1);
        auto nl = text.find('\n');
        out.emplace_back(text.substr(0, nl));
    }
    return out;
}

std::string kernel_log_unreadable(const char* path) {
    UniqueFd fd(::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.valid()) return {};
    const int err = errno;
    std::string hint;
    int restrict_level = 0;
    if ((err == EPERM || err == EACCES) &&
        std::ifstream("/proc/sys/kernel/dmesg_restrict") >> restrict_level && restrict_level)
        hint = " (kernel.dmesg_restrict=1 needs CAP_SYSLOG)";
    return fmt::format("{}: {}{}", path, std::strerror(err), hint);
}

bool is_splat(std::string_view line) {
    constexpr std::string_view kPatterns[] = {"WARNING:",
                                              "BUG:",
                                              "kernel BUG at",
                                              "Oops",
                                              "general protection fault",
                                              "possible circular locking",
                                              "possible recursive locking",
                                              "inconsistent lock state",
                                              "suspicious RCU usage",
                                              "blocked for more than",
                                              "rcu: INFO:",
                                              "detected stall",
                                              "self-detected stall",
                                              "soft lockup",
                                              "hard LOCKUP",
                                              "KASAN:",
                                              "UBSAN:",
                                              "kernel NULL pointer"};
    for (auto p : kPatterns)
        if (line.find(p) != std::string_view::npos) return true;
    return false;
}

}  // namespace kvmrace
