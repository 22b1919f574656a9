#include "cli/run_context.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

namespace {
RunContext& storage() {
    static RunContext ctx;
    return ctx;
}
}  // namespace

std::string RunContext::device_skip_reason() const {
    if (device_status.ok()) return {};
    std::string hint;
    if (device_status == EACCES || device_status == EPERM)
        hint = " (run as root or join the kvm group)";
    if (device_status == ENOENT) hint = " (is kvm loaded?)";
    return fmt::format("{}: {}{}", options.device, std::strerror(device_status.value), hint);
}

const RunContext& run_context() { return storage(); }
void set_run_context(RunContext ctx) { storage() = std::move(ctx); }

}  // namespace kvmrace
