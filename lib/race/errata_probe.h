// Behaviour probes: for each known bug that can be triggered in a bounded way, a short run of its
// exact condition in a supervised child, which tells a kernel that has the bug (the livelock
// seen and freed by a signal, or the wrong answer) from one that has the fix (the documented
// fixed behaviour seen) whatever its version says. A probe that cannot tell says why.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "kernel/errata_decision.h"
#include "watchdog/supervisor.h"

namespace kvmrace {

// Which probes a run needs: the prefault ones only when a prefault race scenario is selected,
// the irqfd one only when its tests are.
struct ProbeScope {
    bool prefault = false;
    bool irqfd = false;
};

struct ProbeRun {
    std::map<std::string, ProbeResult> results;
    // Non-empty: a probe's stuck thread was not freed by the signal (or its child could not be
    // killed). The kernel is wedged; no test may run on it. One line, for the user.
    std::string wedged;
};

struct ProbeSettings {
    std::string device = "/dev/kvm";
    // How long one probe works at its condition, and how long a call may be stuck before the
    // probe calls it the livelock (a delete + re-add is 4-13 ms nested, a 2 MiB prefault less).
    std::chrono::milliseconds budget{1500};
    std::chrono::milliseconds hang_timeout{1000};
};

// A probe's supervised run as a probe verdict: a HANG is the livelock seen; a body's own
// verdict rides in its message ("fixed: ...", "unknown: ...", "has the bug: ...").
ProbeResult judge_probe(const SupervisedRun& r);

ProbeRun run_errata_probes(const ProbeScope& scope, const ProbeSettings& settings);

// How many memslot updates with a prefault in flight, none of them stuck, make the stale-root
// probe call a kernel fixed (the stock 6.18.2 livelock needs far fewer: see the .cpp).
inline constexpr unsigned kStaleRootHitsForFixed = 200;

}  // namespace kvmrace
