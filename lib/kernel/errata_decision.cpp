#include "kernel/errata_decision.h"

#include <algorithm>

#include <fmt/format.h>

namespace kvmrace {

std::optional<ErrataSource> parse_errata_source(std::string_view s) {
    if (s == "probe") return ErrataSource::Probe;
    if (s == "version") return ErrataSource::Version;
    if (s == "both") return ErrataSource::Both;
    return std::nullopt;
}

std::string_view errata_source_name(ErrataSource s) {
    switch (s) {
        case ErrataSource::Probe: return "probe";
        case ErrataSource::Version: return "version";
        case ErrataSource::Both: return "both";
    }
    return "?";
}

std::string_view probe_outcome_name(ProbeOutcome o) {
    switch (o) {
        case ProbeOutcome::NotRun: return "not run";
        case ProbeOutcome::HasBug: return "has the bug";
        case ProbeOutcome::Fixed: return "fixed";
        case ProbeOutcome::Unknown: return "unknown";
    }
    return "?";
}

std::string_view version_verdict_name(VersionVerdict v) {
    switch (v) {
        case VersionVerdict::NotPresent: return "not present";
        case VersionVerdict::Affected: return "affected";
        case VersionVerdict::Fixed: return "fixed";
    }
    return "?";
}

VersionVerdict version_verdict(const Erratum& e, const KernelVersion& k) {
    if (k < e.introduced_in) return VersionVerdict::NotPresent;
    return affects(e, k) ? VersionVerdict::Affected : VersionVerdict::Fixed;
}

namespace {

ErratumDecision decide(const Erratum& e, const KernelVersion& k, ErrataSource source,
                       const ProbeResult& probe, bool assumed_fixed) {
    ErratumDecision d;
    d.erratum = &e;
    d.by_version = version_verdict(e, k);
    d.probe = probe;
    const bool version_says = d.by_version == VersionVerdict::Affected;
    const bool probe_knows =
        probe.outcome == ProbeOutcome::HasBug || probe.outcome == ProbeOutcome::Fixed;
    const bool probe_says = probe.outcome == ProbeOutcome::HasBug;
    const std::string vv(version_verdict_name(d.by_version));
    if (assumed_fixed) {
        d.present = false;
        d.why = "--assume-fixed";
        return d;
    }
    switch (source) {
        case ErrataSource::Version:
            d.present = version_says;
            d.why = fmt::format("by version ({}); --errata-from=version", vv);
            break;
        case ErrataSource::Both:
            d.present = version_says || probe_says;
            d.why = probe_says && !version_says
                        ? fmt::format("the probe saw the bug on a kernel the version calls {}", vv)
                    : version_says && probe.outcome == ProbeOutcome::Fixed
                        ? "by version: --errata-from=both keeps it although the probe saw "
                          "it fixed"
                        : fmt::format("version and probe ({}, {}); --errata-from=both", vv,
                                      probe_outcome_name(probe.outcome));
            break;
        case ErrataSource::Probe:
            if (!probe_knows) {
                d.present = version_says;
                d.why = fmt::format(
                    "by version ({}): the probe {}", vv,
                    probe.outcome == ProbeOutcome::NotRun ? "did not run" : "could not tell");
            } else {
                d.present = probe_says;
                const bool agree = probe_says == version_says;
                d.why = agree ? "by probe, which agrees with the version"
                              : fmt::format(
                                    "by probe: it disagrees with the version ({}), and "
                                    "the probe wins",
                                    vv);
            }
            break;
    }
    return d;
}

}  // namespace

std::vector<ErratumDecision> decide_errata(const KernelVersion& k, ErrataSource source,
                                           const std::map<std::string, ProbeResult>& probes,
                                           std::span<const std::string> assumed_fixed) {
    std::vector<ErratumDecision> out;
    for (const Erratum& e : errata()) {
        auto it = probes.find(std::string(e.id));
        const ProbeResult probe = it == probes.end() ? ProbeResult{} : it->second;
        const bool assumed =
            std::find(assumed_fixed.begin(), assumed_fixed.end(), e.id) != assumed_fixed.end();
        out.push_back(decide(e, k, source, probe, assumed));
    }
    return out;
}

ErrataPresence presence_of(std::span<const ErratumDecision> decisions) {
    std::vector<std::string> ids;
    for (const ErratumDecision& d : decisions)
        if (d.present) ids.emplace_back(d.erratum->id);
    return ErrataPresence(std::move(ids));
}

const ErratumDecision* find_decision(std::span<const ErratumDecision> decisions,
                                     std::string_view id) {
    for (const ErratumDecision& d : decisions)
        if (d.erratum->id == id) return &d;
    return nullptr;
}

std::string decision_line(const ErratumDecision& d) {
    return fmt::format("ERRATUM  {}: {} ({}); probe: {}, {} ({:.2f} s)", d.erratum->id,
                       d.present ? "AFFECTED" : "clear", d.why, probe_outcome_name(d.probe.outcome),
                       d.probe.evidence, d.probe.seconds);
}

std::string errata_table(const KernelVersion& k, ErrataSource source,
                         std::span<const ErratumDecision> decisions) {
    std::string out =
        fmt::format("kernel {}, errata decided by {}\n{:<24} {:<8} {:<12} {:<12} {:<10} {}\n",
                    k.str(), errata_source_name(source), "erratum", "fixed in", "by version",
                    "by probe", "decided", "fix");
    const std::string pad(47, ' ');
    for (const ErratumDecision& d : decisions) {
        const Erratum& e = *d.erratum;
        std::string fixed = e.fixed_in == KernelVersion{} ? "unfixed" : e.fixed_in.str();
        std::string fix = e.commit.empty() ? std::string(e.fix_title)
                                           : fmt::format("{} {}", e.commit, e.fix_title);
        out += fmt::format("{:<24} {:<8} {:<12} {:<12} {:<10} {}\n", e.id, fixed,
                           version_verdict_name(d.by_version), probe_outcome_name(d.probe.outcome),
                           d.present ? "AFFECTED" : "clear", fix);
        out += fmt::format("{}decided: {}\n", pad, d.why);
        if (d.probe.outcome != ProbeOutcome::NotRun)
            out += fmt::format("{}probe: {} (tries {}, hits {}, {:.2f} s)\n", pad, d.probe.evidence,
                               d.probe.tries, d.probe.hits, d.probe.seconds);
        out +=
            fmt::format("{}since: {}{}\n", pad,
                        e.introduced_in == KernelVersion{} ? "always" : e.introduced_in.str(),
                        e.last_seen.empty() ? "" : fmt::format(", last seen on {}", e.last_seen));
        out += fmt::format("{}when: {}\n", pad, e.condition);
        if (!e.tests.empty()) out += fmt::format("{}tests: {}\n", pad, e.tests);
        out += fmt::format("{}effect: {}\n", pad, e.effect);
        if (!e.report.empty()) out += fmt::format("{}report: {}\n", pad, e.report);
    }
    return out;
}

}  // namespace kvmrace
