// Which known bugs a kernel has, decided per run: by its version (release ranges), by a
// behaviour probe that triggers the bug's exact condition briefly (race/errata_probe.h), or
// both. Distro and stable kernels carry backports under old version numbers, so by default the
// probe decides and the version only fills in where the probe could not tell. Pure: unit-tested.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/errata.h"
#include "kernel/version.h"

namespace kvmrace {

// --errata-from: probe (default; the version where the probe says unknown), version, or both
// (present when either says so: the cautious choice for a machine that must not wedge).
enum class ErrataSource { Probe, Version, Both };
std::optional<ErrataSource> parse_errata_source(std::string_view s);
std::string_view errata_source_name(ErrataSource s);

enum class ProbeOutcome {
    NotRun,   // no probe for this erratum, or none was needed for the selected tests
    HasBug,   // the bug's behaviour seen (a livelock freed by a signal, the wrong answer)
    Fixed,    // the documented fixed behaviour seen under the bug's exact condition
    Unknown,  // the condition was not reached, or the kernel cannot run the probe
};
std::string_view probe_outcome_name(ProbeOutcome o);

struct ProbeResult {
    ProbeOutcome outcome = ProbeOutcome::NotRun;
    unsigned tries = 0;    // attempts at the condition (e.g. memslot updates under a prefault)
    unsigned hits = 0;     // of those, attempts that met the condition (the window was hit)
    double seconds = 0;    // the probe's wall time, child set-up included
    std::string evidence;  // one line: what was seen, or why it is unknown
};

enum class VersionVerdict { NotPresent, Affected, Fixed };
std::string_view version_verdict_name(VersionVerdict v);
VersionVerdict version_verdict(const Erratum& e, const KernelVersion& k);

struct ErratumDecision {
    const Erratum* erratum = nullptr;
    VersionVerdict by_version = VersionVerdict::NotPresent;
    ProbeResult probe;
    bool present = false;  // what this run acts on
    std::string why;       // one line: which side decided and, where they disagree, that
};

// One decision per erratum. --assume-fixed wins over both sources.
std::vector<ErratumDecision> decide_errata(const KernelVersion& k, ErrataSource source,
                                           const std::map<std::string, ProbeResult>& probes,
                                           std::span<const std::string> assumed_fixed = {});
ErrataPresence presence_of(std::span<const ErratumDecision> decisions);
// The decision about erratum `id`, nullptr when there is none.
const ErratumDecision* find_decision(std::span<const ErratumDecision> decisions,
                                     std::string_view id);
// "ERRATUM  id: AFFECTED|clear (why); probe: verdict, evidence (0.40 s)": a run's one line for
// each erratum a probe looked at.
std::string decision_line(const ErratumDecision& d);

// `kvmrace --errata`: per erratum the version verdict, the probe verdict, the decision and why.
std::string errata_table(const KernelVersion& k, ErrataSource source,
                         std::span<const ErratumDecision> decisions);

}  // namespace kvmrace
