#include "child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kvmrace::test {

namespace {

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

bool succeeds(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

bool can_open_kvm() {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
}

// Root and a private mount namespace: `setup` runs in it, then the command replaces the shell.
Condition in_mount_namespace(const std::string& setup) {
    if (::geteuid() != 0) return {"", "needs root for unshare -m (a private mount namespace)"};
    const std::string prefix = "unshare -m --propagation private sh -c " +
                               shell_quote(setup + " && exec \"$0\" \"$@\"") + " ";
    if (!succeeds(prefix + "true"))
        return {"", "unshare -m or mount failed here (a container without CAP_SYS_ADMIN?)"};
    return {prefix, ""};
}

}  // namespace

std::vector<std::string> ChildResult::err_lines() const { return split_lines(err); }
std::vector<std::string> ChildResult::out_lines() const { return split_lines(out); }

std::string self_exe() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "/proc/self/exe";
}

std::string sibling_exe(const std::string& name) {
    std::string self = self_exe();
    return self.substr(0, self.rfind('/') + 1) + name;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

ChildResult run_child(const std::string& prefix, const std::string& binary,
                      const std::vector<std::string>& args) {
    const std::string err_path = "/tmp/kvmrace-child-" + std::to_string(::getpid()) + ".err";
    std::string cmd = prefix + shell_quote(binary);
    for (const auto& a : args) cmd += " " + shell_quote(a);
    cmd += " 2>" + shell_quote(err_path);
    ChildResult r;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
        int status = ::pclose(p);
        if (status >= 0 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    }
    r.err = slurp(err_path);
    std::remove(err_path.c_str());
    return r;
}

Condition without_kvm_access() {
    if (::geteuid() != 0) {
        if (can_open_kvm()) return {"", "this user can open /dev/kvm (and is not root)"};
        return {"", ""};
    }
    const std::string prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    if (!succeeds(prefix + "test -x " + shell_quote(self_exe())))
        return {"", "user nobody (65534) cannot execute " + self_exe() +
                        " (setpriv missing or a parent directory not searchable)"};
    if (succeeds(prefix + "test -r /dev/kvm -a -w /dev/kvm"))
        return {"", "user nobody can open /dev/kvm here (mode allows others)"};
    return {prefix, ""};
}

Condition without_dev_kvm() { return in_mount_namespace("mount -t tmpfs kvmrace-nodev /dev"); }

Condition with_dev_kvm_not_kvm() {
    if (::geteuid() == 0 && !can_open_kvm()) return {"", "no /dev/kvm to replace here"};
    return in_mount_namespace("mount --bind /dev/null /dev/kvm");
}

Condition without_cap_syslog() {
    if (::geteuid() != 0) return {"", "needs root (with /dev/kvm) to drop only CAP_SYSLOG"};
    if (!can_open_kvm()) return {"", "/dev/kvm cannot be opened"};
    int restrict_level = 0;
    std::ifstream("/proc/sys/kernel/dmesg_restrict") >> restrict_level;
    if (restrict_level != 1)
        return {"", "kernel.dmesg_restrict=0: /dev/kmsg is readable without CAP_SYSLOG"};
    const std::string prefix = "setpriv --inh-caps=-syslog --bounding-set=-syslog ";
    if (succeeds(prefix + "dd if=/dev/kmsg of=/dev/null count=0 iflag=nonblock"))
        return {"", "/dev/kmsg stays readable without CAP_SYSLOG"};
    return {prefix, ""};
}

}  // namespace kvmrace::test
