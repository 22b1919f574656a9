// Every scenario of the race catalog, each in its own supervised child: PASS, FAIL (contract
// broken), HANG (no progress: evidence and recovery attached) or SKIP (what this kernel lacks).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "cli/run_context.h"
#include "kernel/errata.h"
#include "kvm/system.h"
#include "race/hang_context.h"
#include "race/race_config.h"
#include "report/terminal.h"
#include "watchdog/supervisor.h"

namespace kvmrace::test {
namespace {

class KvmRace : public testing::TestWithParam<Scenario> {};

RaceConfig config_for(const Scenario& s) {
    const RunContext& ctx = run_context();
    RaceConfig cfg;
    cfg.device = ctx.options.device;
    cfg.iterations = s.actor == Actor::Prefault || s.actor == Actor::Irq
                         ? ctx.iterations(200, 2000)
                         : ctx.iterations(1000, 20000);
    cfg.duration_s = ctx.options.duration_s;
    cfg.seed = ctx.seed;
    cfg.jitter_us = ctx.options.jitter_us;
    cfg.pin = ctx.options.pin;
    return cfg;
}

// " (decided by probe: ...)": how the run came to treat the kernel as having the bug.
std::string decided_how(const Erratum& e) {
    const ErratumDecision* d = find_decision(run_context().errata_decisions, e.id);
    return d ? " (" + d->why + ")" : "";
}

std::string hang_report(const SupervisedRun& r, double timeout) {
    std::string s = fmt::format("HANG: {} for {:.2f} s (hang timeout {:.2f} s)\n", r.hang_kind,
                                r.hang_detect_s, timeout);
    s += r.hang_context;
    s += format_evidence(r.evidence);
    s += "recovery: " + r.recovery + "\n";
    for (const auto& line : r.kernel_log) s += "kernel: " + line + "\n";
    return s;
}

// One seed of a row, supervised in its own child, with the live progress line on a terminal.
SupervisedRun run_one_seed(const Scenario& s, const RaceConfig& cfg, const KernelVersion& kernel,
                           uint64_t k, uint64_t n) {
    const RunContext& ctx = run_context();
    SupervisorOptions opt;
    opt.hang_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(ctx.options.hang_timeout_s * 1000));
    const bool live = is_interactive(STDOUT_FILENO) && !ctx.options.ktap;
    uint64_t last_draw = 0;
    const std::string which = n > 1 ? fmt::format("  seed {}/{}", k + 1, n) : "";
    if (live)
        opt.on_tick = [&](const ProgressBoard& b, double elapsed) {
            uint64_t now = monotonic_ns();
            if (now - last_draw < 200'000'000) return;  // 5 redraws a second
            last_draw = now;
            std::string line = fmt::format(
                "\r  .... {}{}  {:.1f} s  iterations {}/{}  mutations {}", s.name, which, elapsed,
                b.counter(Counter::Iterations), cfg.iterations, b.counter(Counter::Mutations));
            line += fmt::format("  hits={}/{}", b.counter(Counter::Hits),
                                b.counter(Counter::HitIterations));
            if (s.actor == Actor::Prefault)
                line += fmt::format("  ok {} EAGAIN {} ENOENT {}", b.counter(Counter::PrefaultOk),
                                    b.counter(Counter::PrefaultEagain),
                                    b.counter(Counter::PrefaultEnoent));
            else
                line += fmt::format("  passes {} mmio {}", b.counter(Counter::GuestPasses),
                                    b.counter(Counter::MmioExits));
            std::fputs(line.c_str(), stdout);
            std::fflush(stdout);
        };
    opt.describe_hang = [&](const ProgressBoard& b) {
        return describe_race_hang(s, b, kernel, ctx.errata);
    };
    SupervisedRun r = supervise([&](ProgressBoard& b) { run_scenario(s, cfg, b); }, opt);
    if (live && last_draw) std::fputs("\r\033[K", stdout);  // clear the progress line
    return r;
}

struct SeedRun {
    uint64_t seed;
    SupervisedRun run;
};

// 'P' pass, 'F' fail, 'H' hang, 'S' skip: one letter a seed in seed_verdicts.
char verdict_letter(Verdict v) {
    switch (v) {
        case Verdict::Pass: return 'P';
        case Verdict::Fail: return 'F';
        case Verdict::Hang: return 'H';
        case Verdict::Skip: return 'S';
    }
    return '?';
}

int severity(Verdict v) {
    return v == Verdict::Hang ? 3 : v == Verdict::Fail ? 2 : v == Verdict::Skip ? 1 : 0;
}

// The row's properties: its worst verdict, the first seed, the counters summed over the seeds,
// and with --seeds > 1 "caught=k/n" and one letter a seed.
void record_runs(const std::vector<SeedRun>& runs) {
    using testing::Test;
    const SupervisedRun* worst = &runs.front().run;
    std::map<std::string, uint64_t> totals;
    double seconds = 0;
    uint64_t caught = 0;
    std::string letters;
    for (const SeedRun& run : runs) {
        const SupervisedRun& r = run.run;
        if (severity(r.verdict) > severity(worst->verdict)) worst = &r;
        for (const auto& [name, value] : r.counters) totals[name] += value;
        seconds += r.duration_s;
        caught += r.verdict == Verdict::Hang || r.verdict == Verdict::Fail;
        letters += verdict_letter(r.verdict);
    }
    Test::RecordProperty("verdict", std::string(verdict_name(worst->verdict)));
    Test::RecordProperty("seed", std::to_string(runs.front().seed));
    if (runs.size() > 1) {
        Test::RecordProperty("seeds", std::to_string(runs.size()));
        Test::RecordProperty("caught", fmt::format("{}/{}", caught, runs.size()));
        Test::RecordProperty("seed_verdicts", letters);
    }
    // hits=N/M on every verdict (scripts/bisect reads both, also when 0); other counters when
    // non-zero.
    Test::RecordProperty("hits", std::to_string(totals["hits"]));
    Test::RecordProperty("hit_iterations", std::to_string(totals["hit_iterations"]));
    for (const auto& [name, value] : totals)
        if (value && name != "hits" && name != "hit_iterations")
            Test::RecordProperty(name, std::to_string(value));
    if (worst->verdict == Verdict::Hang) {
        Test::RecordProperty("hang_detect_latency_s",
                             fmt::format("{:.3f}", worst->hang_detect_latency_s));
        Test::RecordProperty("hang_verdict_latency_s",
                             fmt::format("{:.3f}", worst->hang_verdict_latency_s));
    }
    if (uint64_t iterations = totals["iterations"]; iterations && seconds > 0)
        Test::RecordProperty("iterations_per_s",
                             std::to_string(static_cast<uint64_t>(iterations / seconds)));
}

TEST_P(KvmRace, Verdict) {
    const Scenario& s = GetParam();
    const RunContext& ctx = run_context();
    if (!ctx.device_status.ok()) GTEST_SKIP() << ctx.device_skip_reason();
    const KernelVersion kernel = KernelVersion::running();
    const auto bugs = errata_for(race_facts(s), kernel, ctx.errata);
    const Erratum* known_bug = bugs.empty() ? nullptr : bugs.front();
    if (known_bug && !ctx.options.force) {
        // What this kernel cannot run at all says more than a bug it would have: check that first
        // (capability queries only; the VMs are made and closed before any fork).
        std::string cannot = scenario_skip_reason(s, System(ctx.options.device));
        GTEST_SKIP() << (cannot.empty() ? skip_reason(*known_bug) + decided_how(*known_bug)
                                        : cannot);
    }
    const uint64_t n = ctx.options.seeds;
    std::vector<SeedRun> runs;
    for (uint64_t k = 0; k < n; ++k) {
        RaceConfig cfg = config_for(s);
        cfg.seed = ctx.seed + k;
        SupervisedRun r = run_one_seed(s, cfg, kernel, k, n);
        // What a kernel cannot run does not depend on the seed: the first skip ends the row.
        if (r.verdict == Verdict::Skip) GTEST_SKIP() << r.message;
        runs.push_back({cfg.seed, std::move(r)});
    }
    record_runs(runs);

    std::vector<const SeedRun*> caught;
    for (const SeedRun& run : runs)
        if (run.run.verdict == Verdict::Hang || run.run.verdict == Verdict::Fail)
            caught.push_back(&run);
    if (known_bug && ctx.options.expect_errata) {
        // Checking the checker on a kernel with a known bug: catching it is the expected result.
        std::string ids;
        for (const Erratum* e : bugs) ids += (ids.empty() ? "" : ",") + std::string(e->id);
        std::string how = n == 1 ? (caught.empty() ? "not triggered" : "caught (XFAIL)")
                          : caught.empty()
                              ? fmt::format("not triggered in {} seeds", n)
                              : fmt::format("caught in {} of {} seeds (XFAIL)", caught.size(), n);
        RecordProperty("expected", ids + " " + how);
        return;
    }
    if (caught.empty()) return;
    const SeedRun& first = *caught.front();
    std::string head;
    if (n > 1) {
        std::string seeds;
        for (const SeedRun* c : caught)
            seeds += (seeds.empty() ? "" : ",") + std::to_string(c->seed);
        head = fmt::format("caught in {} of {} seeds (seeds {}); the first:\n", caught.size(), n,
                           seeds);
    }
    if (first.run.verdict == Verdict::Fail) {
        std::string log;
        for (const auto& line : first.run.kernel_log) log += "\nkernel: " + line;
        FAIL() << head << "FAIL: " << first.run.message << log << "\nseed " << first.seed;
    }
    FAIL() << head << hang_report(first.run, ctx.options.hang_timeout_s) << "seed " << first.seed;
}

INSTANTIATE_TEST_SUITE_P(, KvmRace,
                         testing::ValuesIn(scenario_catalog().begin(), scenario_catalog().end()),
                         [](const testing::TestParamInfo<Scenario>& p) {
                             return std::string(p.param.name);
                         });

}  // namespace
}  // namespace kvmrace::test
