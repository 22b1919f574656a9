// Runs the built kvmrace (this very binary) or another program as a child process under a
// condition a new user meets: no /dev/kvm access (user nobody), /dev/kvm absent or replaced
// (a private mount namespace), no CAP_SYSLOG. Each condition either gives the shell prefix that
// sets it up or the reason it cannot be set up here, for GTEST_SKIP.
#pragma once

#include <string>
#include <vector>

namespace kvmrace::test {

struct ChildResult {
    int exit_code = -1;  // -1: killed by a signal or never ran
    std::string out, err;
    std::vector<std::string> err_lines() const;
    std::vector<std::string> out_lines() const;
};

// This binary's path (/proc/self/exe resolved) and a sibling of it ("kvmrace-bench").
std::string self_exe();
std::string sibling_exe(const std::string& name);

// Single-quotes for sh.
std::string shell_quote(const std::string& s);

// Runs `prefix BINARY args...` through sh with stdout and stderr captured separately.
ChildResult run_child(const std::string& prefix, const std::string& binary,
                      const std::vector<std::string>& args);

// A condition: the command prefix that sets it up, or why it cannot be set up (skip).
struct Condition {
    std::string prefix;
    std::string unavailable;  // non-empty: skip with this reason
};

// A user without access to /dev/kvm: nobody via setpriv when root; ourselves when we lack it.
Condition without_kvm_access();
// Root only: a private mount namespace whose /dev is an empty tmpfs (no /dev/kvm at all).
Condition without_dev_kvm();
// Root only: a private mount namespace with /dev/null bind-mounted over /dev/kvm.
Condition with_dev_kvm_not_kvm();
// Root with /dev/kvm and kernel.dmesg_restrict=1: CAP_SYSLOG dropped, /dev/kmsg unreadable.
Condition without_cap_syslog();

}  // namespace kvmrace::test
