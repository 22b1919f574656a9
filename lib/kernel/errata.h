// Known kernel bugs the suite can trigger: the fix (title, first fixed release), the scenarios
// it affects and what happens on a kernel without it. A scenario that would livelock an unfixed
// host is skipped there unless --force (the watchdog makes forcing safe).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kernel/version.h"

namespace kvmrace {

struct Erratum {
    std::string_view id;
    std::string_view fix_title;  // the fixing commit's subject
    std::string_view commit;     // its id where known ("" when not verified here)
    KernelVersion fixed_in;  // first release with the fix; {0,0,0}: not fixed in any release tested
    std::string_view scenarios;  // GoogleTest-style patterns over scenario names
    std::string_view effect;     // what an unfixed kernel does
};

std::span<const Erratum> errata();
// The first erratum that affects `scenario` on kernel `k`, if any.
std::optional<Erratum> erratum_for(std::string_view scenario, const KernelVersion& k);
bool affects(const Erratum& e, const KernelVersion& k);
// "known bug prefault-eagain, fixed by "KVM: ..." in 6.18.0; --force to run"
std::string skip_reason(const Erratum& e);
// `kvmrace --errata`: the table against a kernel.
std::string errata_table(const KernelVersion& k);

}  // namespace kvmrace
