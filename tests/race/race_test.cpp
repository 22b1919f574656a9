// Every scenario of the race catalog, each in its own supervised child: PASS, FAIL (contract
// broken), HANG (no progress: evidence and recovery attached) or SKIP (what this kernel lacks).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

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
    cfg.iterations =
        s.actor == Actor::Prefault ? ctx.iterations(200, 2000) : ctx.iterations(1000, 20000);
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
    const RaceConfig cfg = config_for(s);
    SupervisorOptions opt;
    opt.hang_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(ctx.options.hang_timeout_s * 1000));
    const bool live = is_interactive(STDOUT_FILENO) && !ctx.options.ktap;
    uint64_t last_draw = 0;
    if (live)
        opt.on_tick = [&](const ProgressBoard& b, double elapsed) {
            uint64_t now = monotonic_ns();
            if (now - last_draw < 200'000'000) return;  // 5 redraws a second
            last_draw = now;
            std::string line = fmt::format("\r  .... {}  {:.1f} s  iterations {}/{}  mutations {}",
                                           s.name, elapsed, b.counter(Counter::Iterations),
                                           cfg.iterations, b.counter(Counter::Mutations));
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

    RecordProperty("verdict", std::string(verdict_name(r.verdict)));
    RecordProperty("seed", std::to_string(cfg.seed));
    // hits=N/M on every verdict (scripts/bisect reads both, also when 0); other counters when
    // non-zero.
    RecordProperty("hits", std::to_string(r.counters["hits"]));
    RecordProperty("hit_iterations", std::to_string(r.counters["hit_iterations"]));
    for (const auto& [name, value] : r.counters)
        if (value && name != "hits" && name != "hit_iterations")
            RecordProperty(name, std::to_string(value));
    if (r.verdict == Verdict::Hang) {
        RecordProperty("hang_detect_latency_s", fmt::format("{:.3f}", r.hang_detect_latency_s));
        RecordProperty("hang_verdict_latency_s", fmt::format("{:.3f}", r.hang_verdict_latency_s));
    }
    uint64_t iterations = r.counters["iterations"];
    if (iterations && r.duration_s > 0)
        RecordProperty("iterations_per_s",
                       std::to_string(static_cast<uint64_t>(iterations / r.duration_s)));
    if (known_bug && ctx.options.expect_errata) {
        // Checking the checker on a kernel with a known bug: catching it is the expected result.
        bool caught = r.verdict == Verdict::Hang || r.verdict == Verdict::Fail;
        std::string ids;
        for (const Erratum* e : bugs) ids += (ids.empty() ? "" : ",") + std::string(e->id);
        RecordProperty("expected",
                       fmt::format("{} {}", ids, caught ? "caught (XFAIL)" : "not triggered"));
        if (caught) return;
    }
    switch (r.verdict) {
        case Verdict::Pass: break;
        case Verdict::Skip: GTEST_SKIP() << r.message;
        case Verdict::Fail: {
            std::string log;
            for (const auto& line : r.kernel_log) log += "\nkernel: " + line;
            FAIL() << "FAIL: " << r.message << log << "\nseed " << cfg.seed;
        }
        case Verdict::Hang:
            FAIL() << hang_report(r, ctx.options.hang_timeout_s) << "seed " << cfg.seed;
    }
}

INSTANTIATE_TEST_SUITE_P(, KvmRace,
                         testing::ValuesIn(scenario_catalog().begin(), scenario_catalog().end()),
                         [](const testing::TestParamInfo<Scenario>& p) {
                             return std::string(p.param.name);
                         });

}  // namespace
}  // namespace kvmrace::test
