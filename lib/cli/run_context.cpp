#include "cli/run_context.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

namespace {

std::string user_name(uid_t uid) {
    const passwd* p = ::getpwuid(uid);
    return p ? p->pw_name : std::to_string(uid);
}
std::string group_name(gid_t gid) {
    const group* g = ::getgrgid(gid);
    return g ? g->gr_name : std::to_string(gid);
}

// "owner root, group kvm, mode 0660: run as root or join group kvm": what the device's owner,
// group and mode allow, instead of assuming a kvm group exists.
std::string access_hint(const std::string& device) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0) return "run as root";
    const unsigned mode = st.st_mode & 07777;
    std::string who = "run as root";
    if (st.st_uid != 0) who += " or as " + user_name(st.st_uid);
    if ((mode & 060) == 060 && st.st_gid != 0) who += " or join group " + group_name(st.st_gid);
    return fmt::format("owner {}, group {}, mode {:04o}: {}", user_name(st.st_uid),
                       group_name(st.st_gid), mode, who);
}

RunContext& storage() {
    static RunContext ctx;
    return ctx;
}
}  // namespace

std::string RunContext::device_skip_reason() const {
    if (device_status.ok()) return {};
    std::string hint;
    if (device_status == EACCES || device_status == EPERM)
        hint = " (" + access_hint(options.device) + ")";
    if (device_status == ENOENT) hint = " (is the kvm module loaded?)";
    return fmt::format("{}: {}{}", options.device, std::strerror(device_status.value), hint);
}

const RunContext& run_context() { return storage(); }
void set_run_context(RunContext ctx) { storage() = std::move(ctx); }

}  // namespace kvmrace
