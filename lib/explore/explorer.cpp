#include "explore/explorer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "explore/corpus.h"
#include "explore/finding.h"
#include "kernel/version.h"
#include "kvm/system.h"
#include "race/hang_context.h"
#include "race/race_config.h"
#include "report/exit_status.h"
#include "watchdog/supervisor.h"

namespace kvmrace {

namespace {

struct PointRun {
    SupervisedRun run;
    Finding finding;
};

PointRun run_point(const Scenario& s, uint64_t seed, const ExploreSettings& cfg) {
    RaceConfig rc;
    rc.device = cfg.device;
    rc.iterations = s.actor == Actor::Prefault || s.actor == Actor::Irq ? cfg.prefault_iterations
                                                                        : cfg.run_iterations;
    rc.duration_s = cfg.point_duration_s;
    rc.seed = seed;
    SupervisorOptions opt;
    opt.hang_timeout = std::chrono::milliseconds(int64_t(cfg.hang_timeout_s * 1000));
    const KernelVersion k = KernelVersion::running();
    opt.describe_hang = [&](const ProgressBoard& b) {
        return describe_race_hang(s, b, k, cfg.errata);
    };
    PointRun out;
    out.run = supervise([&](ProgressBoard& b) { run_scenario(s, rc, b); }, opt);
    out.finding = finding_of(s, out.run, k, cfg.errata);
    return out;
}

std::string verdict_text(const SupervisedRun& r) {
    if (r.verdict != Verdict::Hang) return r.message;
    return fmt::format("{} for {:.2f} s\n{}{}recovery: {}", r.hang_kind, r.hang_detect_s,
                       r.hang_context, format_evidence(r.evidence), r.recovery);
}

// A child SIGKILL could not end: a thread in D state for good. (A livelock the signal did not
// end within the recovery bound, but SIGKILL did, leaves a usable kernel: stock 6.18.2's
// stale-root HANG with four vCPUs does that.)
bool wedged(const SupervisedRun& r) { return r.verdict == Verdict::Hang && r.unkillable; }

// Ctrl-C and TERM wait until the running point is over: blocked, polled between points.
struct DeferredStop {
    sigset_t set{}, old{};
    DeferredStop() {
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, &old);
    }
    ~DeferredStop() { sigprocmask(SIG_SETMASK, &old, nullptr); }
    bool requested() const {
        sigset_t pending;
        sigpending(&pending);
        return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
    }
};

std::string duration_text(double s) {
    return s >= 60 ? fmt::format("{}m{:02}s", int(s) / 60, int(s) % 60) : fmt::format("{:.0f}s", s);
}

}  // namespace

int replay_point(const RacePoint& p, const ExploreSettings& cfg) {
    const Scenario s = scenario_of(p);
    std::printf("replay %s (%s), seed %llu\n", spec_of(p).c_str(), std::string(s.name).c_str(),
                static_cast<unsigned long long>(cfg.seed));
    PointRun r = run_point(s, cfg.seed, cfg);
    std::printf("%s  %s%s%s\n", std::string(verdict_name(r.run.verdict)).c_str(),
                spec_of(p).c_str(),
                r.finding.signature.empty() ? "" : "\n  signature: ", r.finding.signature.c_str());
    if (r.run.verdict != Verdict::Pass) std::printf("%s\n", verdict_text(r.run).c_str());
    if (wedged(r.run)) return kExitWedged;
    switch (r.run.verdict) {
        case Verdict::Pass: return kExitPass;
        case Verdict::Skip: return kExitSkip;
        default: return kExitFail;
    }
}

int explore(const ExploreSettings& cfg) {
    std::string error;
    std::optional<Corpus> corpus = Corpus::open(cfg.corpus_dir, error);
    if (!corpus) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return kExitUsage;
    }
    const KernelVersion k = KernelVersion::running();
    // What this kernel can run: capability queries only, before the first fork.
    std::vector<RacePoint> runnable;
    std::map<std::string, unsigned> unrunnable;
    {
        System sys(cfg.device);
        for (const RacePoint& p : race_space()) {
            std::string why = scenario_skip_reason(scenario_of(p), sys);
            if (why.empty())
                runnable.push_back(p);
            else
                ++unrunnable[why];
        }
    }
    const size_t resumed = corpus->entries().size();
    std::printf(
        "explore: %zu points in the space, %zu runnable on %s; corpus %s (%zu signatures "
        "kept), budget %s, seed %llu\n",
        runnable.size() +
            [&] {
                size_t n = 0;
                for (auto& [why, c] : unrunnable) n += c;
                return n;
            }(),
        runnable.size(), k.str().c_str(), corpus->dir().c_str(), resumed,
        duration_text(cfg.budget_s).c_str(), static_cast<unsigned long long>(cfg.seed));
    for (const auto& [why, n] : unrunnable)
        std::printf("  not here (%u points): %s\n", n, why.c_str());
    if (runnable.empty()) {
        std::printf("explore: no runnable point on this kernel\n");
        return kExitSkip;
    }
    std::mt19937_64 rng(cfg.seed);
    std::shuffle(runnable.begin(), runnable.end(), rng);

    DeferredStop stop;
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    uint64_t points = 0, passed = 0, skipped = 0;
    std::map<std::string, uint64_t> seen;  // signature -> times this run
    std::vector<std::string> fresh;        // new signatures, in order
    bool interrupted = false;
    for (uint64_t n = 0; elapsed() < cfg.budget_s; ++n) {
        if (stop.requested()) {
            interrupted = true;
            break;
        }
        const RacePoint p = runnable[n % runnable.size()];
        const uint64_t seed = cfg.seed + n;
        const Scenario s = scenario_of(p);
        const double before = elapsed();
        // Said before the point runs: a point that takes the whole machine down (a reset of a
        // nested guest ends its console mid-run) is then named by the last line.
        std::printf("START %llu %s seed %llu\n", static_cast<unsigned long long>(points + 1),
                    spec_of(p).c_str(), static_cast<unsigned long long>(seed));
        std::fflush(stdout);
        PointRun r = run_point(s, seed, cfg);
        ++points;
        if (r.run.verdict == Verdict::Pass) ++passed;
        if (r.run.verdict == Verdict::Skip) ++skipped;
        std::printf("POINT %llu %s %s seed %llu (%.1f s)%s%s\n",
                    static_cast<unsigned long long>(points),
                    std::string(verdict_name(r.run.verdict)).c_str(), spec_of(p).c_str(),
                    static_cast<unsigned long long>(seed), elapsed() - before,
                    r.finding.signature.empty() ? "" : "  ", r.finding.signature.c_str());
        if (r.run.verdict == Verdict::Skip)
            std::printf("  skip: %s\n", r.run.message.substr(0, 200).c_str());
        if (wedged(r.run)) {
            std::printf(
                "explore: a livelock no signal freed (%s): the kernel is wedged; "
                "corpus in %s\n",
                r.run.recovery.c_str(), corpus->dir().c_str());
            return kExitWedged;
        }
        if (!r.finding.signature.empty()) {
            RacePoint smallest = p;
            const bool is_new = !corpus->has(r.finding.signature) && r.finding.erratum.empty();
            // Shrink a new finding: move one axis toward its default while the signature stays.
            for (int step = 0; is_new && step < 4 && elapsed() < cfg.budget_s; ++step) {
                bool moved = false;
                for (const RacePoint& q : simpler_points(smallest)) {
                    if (std::find(runnable.begin(), runnable.end(), q) == runnable.end()) continue;
                    PointRun t = run_point(scenario_of(q), seed, cfg);
                    std::printf("  shrink %s: %s\n", spec_of(q).c_str(),
                                t.finding.signature.empty() ? "PASS" : t.finding.signature.c_str());
                    if (t.finding.signature == r.finding.signature) {
                        smallest = q, moved = true;
                        break;
                    }
                }
                if (!moved) break;
            }
            if (is_new) {
                fresh.push_back(r.finding.signature);
                std::printf(
                    "NEW  %s\n  replay: kvmrace --scenario-spec '%s' --seed %llu "
                    "--force\n%s\n",
                    r.finding.signature.c_str(), spec_of(smallest).c_str(),
                    static_cast<unsigned long long>(seed), verdict_text(r.run).c_str());
            }
            ++seen[r.finding.signature];
            corpus->record({r.finding.signature, r.finding.erratum, spec_of(smallest), seed, 1,
                            k.str(), verdict_text(r.run).substr(0, 4000)});
        }
        if (isatty(STDOUT_FILENO) || points % 10 == 0)
            std::printf(
                "explore: %llu points in %s, %zu signatures this run (%zu new), "
                "%.1f points/min\n",
                static_cast<unsigned long long>(points), duration_text(elapsed()).c_str(),
                seen.size(), fresh.size(), points / (elapsed() / 60));
        std::fflush(stdout);
    }
    const double t = elapsed();
    std::printf(
        "\nexplore %s: %llu points (%llu PASS, %llu SKIP) in %s, %.1f points/min, %zu "
        "signatures (%zu new), corpus %s\n",
        interrupted ? "interrupted" : "done", static_cast<unsigned long long>(points),
        static_cast<unsigned long long>(passed), static_cast<unsigned long long>(skipped),
        duration_text(t).c_str(), points / (t / 60), seen.size(), fresh.size(),
        corpus->dir().c_str());
    std::printf("%-6s %-8s %-26s %s\n", "count", "kind", "erratum", "signature / replay");
    for (const auto& [sig, count] : seen) {
        const CorpusEntry& e = corpus->entries().at(sig);
        const bool is_new = std::find(fresh.begin(), fresh.end(), sig) != fresh.end();
        std::printf("%-6llu %-8s %-26s %s\n%42s%s\n", static_cast<unsigned long long>(count),
                    e.erratum.empty() ? (is_new ? "NEW" : "kept") : "known",
                    e.erratum.empty() ? "-" : e.erratum.c_str(), sig.c_str(), "",
                    e.replay().c_str());
    }
    if (interrupted) return 130;
    return fresh.empty() ? kExitPass : kExitFail;
}

}  // namespace kvmrace
