// kvmrace: one binary for the unit tests and the KVM tests. Parses our options, maps them onto
// GoogleTest, prints one line per test and the closing "N passed, N failed, N skipped".
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/options.h"
#include "cli/run_context.h"
#include "cli/test_filter.h"
#include "explore/explorer.h"
#include "kernel/errata.h"
#include "kernel/errata_decision.h"
#include "kvm/capability.h"
#include "kvm/device_probe.h"
#include "kvm/kvm_error.h"
#include "kvm/system.h"
#include "race/errata_probe.h"
#include "race/scenario.h"
#include "report/caps_table.h"
#include "report/exit_status.h"
#include "report/json_report.h"
#include "report/junit_report.h"
#include "report/ktap_report.h"
#include "report/report_file.h"
#include "report/result_printer.h"
#include "report/tally.h"
#include "report/test_deadline.h"
#include "util/logging.h"
#include "watchdog/kernel_log.h"

#ifndef KVMRACE_VERSION
#define KVMRACE_VERSION "0.0.0"
#endif

using namespace kvmrace;

namespace {

bool has_gtest_flag(const Options& o, std::string_view flag) {
    return std::any_of(o.gtest_args.begin(), o.gtest_args.end(),
                       [&](const std::string& a) { return a.starts_with(flag); });
}

// Full names of the registered tests that the filter selects, in registration order.
std::vector<std::string> selected_tests(const std::string& filter, bool also_disabled) {
    std::vector<std::string> names;
    const auto& ut = *testing::UnitTest::GetInstance();
    for (int s = 0; s < ut.total_test_suite_count(); ++s) {
        const auto& suite = *ut.GetTestSuite(s);
        for (int t = 0; t < suite.total_test_count(); ++t) {
            std::string name = fmt::format("{}.{}", suite.name(), suite.GetTestInfo(t)->name());
            bool disabled = name.find("DISABLED_") != std::string::npos;
            if (filter_matches(filter, name) && (also_disabled || !disabled))
                names.push_back(std::move(name));
        }
    }
    return names;
}

// "KvmRace.Verdict/PrefaultVsDelete_Anon  -- what it races; needs: ..." for race scenarios.
std::string describe_test(const std::string& name) {
    constexpr std::string_view kRace = "KvmRace.Verdict/";
    if (name.rfind(kRace, 0) != 0) return name;
    for (const Scenario& s : scenario_catalog()) {
        if (name.substr(kRace.size()) != s.name) continue;
        std::string needs =
            s.actor == Actor::Prefault ? "KVM_CAP_PRE_FAULT_MEMORY"
            : s.actor == Actor::Irq
                ? "KVM_CAP_IRQCHIP, KVM_CAP_IRQFD, KVM_CAP_IRQ_ROUTING, KVM_CAP_SIGNAL_MSI"
                : "KVM_RUN";
        // Every row whose VM is not the default one says which, whatever its backing.
        if (s.vm_type != uapi::VmType::Default)
            needs += fmt::format(", VM type {} ({})", static_cast<unsigned long>(s.vm_type),
                                 vm_type_name(s.vm_type));
        if (s.slot_zap_all_off)
            needs += ", KVM_CAP_DISABLE_QUIRKS2 with SLOT_ZAP_ALL (cap 213, bit 7)";
        if (s.backing == RaceBacking::GuestMemfdShared) needs += ", guest_memfd MMAP|INIT_SHARED";
        if (s.backing == RaceBacking::GuestMemfdPrivate) needs += ", memory attributes";
        return fmt::format("{:<58} {} [{} vCPU{}; needs {}]", name, s.description, s.vcpus,
                           s.vcpus > 1 ? "s" : "", needs);
    }
    return name;
}

// Counts outcomes for the exit code when the table printer is replaced (KTAP).
class TallyOnly : public testing::EmptyTestEventListener {
public:
    explicit TallyOnly(Tally& t) : t_(t) {}
    void OnTestEnd(const testing::TestInfo& info) override {
        const auto& r = *info.result();
        t_.add(r.Failed() ? Outcome::Fail : r.Skipped() ? Outcome::Skip : Outcome::Pass);
    }

private:
    Tally& t_;
};

// GoogleTest's argv: our filter plus any --gtest_* flags; it never sees our own options. (A
// death test re-executes the binary with exactly these, plus its own flags.)
struct GtestArgs {
    std::vector<std::string> args;
    std::vector<char*> argv;
    GtestArgs(const char* argv0, const Options& o) {
        args = {argv0, "--gtest_filter=" + gtest_filter(o)};
        for (const auto& a : o.gtest_args) args.push_back(a);
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);  // argv[argc] is NULL; GoogleTest shifts it down
    }
    void init() {
        int argc = static_cast<int>(argv.size()) - 1;
        testing::InitGoogleTest(&argc, argv.data());
    }
};

// A death test's child: runs the one statement and reports through its exit status and stderr.
// Nothing of ours may reach stdout (it is the parent's: a KTAP stream, a table) and there is no
// device to check and no report file to open.
int run_death_test_child(const char* argv0, const Options& o) {
    RunContext ctx;
    ctx.options = o;
    set_run_context(ctx);
    GtestArgs g(argv0, o);
    g.init();
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    return RUN_ALL_TESTS();
}

// The probes the selected tests need: the prefault ones for a prefault race scenario, the irqfd
// one for the irqfd uniqueness tests.
ProbeScope probe_scope(const std::vector<std::string>& tests) {
    constexpr std::string_view kRace = "KvmRace.Verdict/";
    ProbeScope scope;
    for (const std::string& t : tests) {
        if (t.starts_with("KvmIrqfd.SameEventfdOnSecondVm")) scope.irqfd = true;
        if (!t.starts_with(kRace)) continue;
        for (const Scenario& s : scenario_catalog())
            if (t.substr(kRace.size()) == s.name && race_facts(s).prefaults) scope.prefault = true;
    }
    return scope;
}

// Decides the run's errata (--errata-from): runs the probes `scope` asks for, unless the version
// alone decides or the device is unusable. Returns the wedged line when a probe could not be
// freed (then nothing may run on this kernel).
std::string decide_run_errata(RunContext& ctx, const ProbeScope& scope) {
    const Options& o = ctx.options;
    ProbeRun probes;
    if (o.errata_from != ErrataSource::Version && ctx.device_status.ok() &&
        (scope.prefault || scope.irqfd)) {
        ProbeSettings settings;
        settings.device = o.device;
        probes = run_errata_probes(scope, settings);
    }
    ctx.errata_decisions =
        decide_errata(KernelVersion::running(), o.errata_from, probes.results, o.assume_fixed);
    ctx.errata = presence_of(ctx.errata_decisions);
    return probes.wedged;
}

// For the modes that need KVM itself (--caps, --explore): one line and the exit status when the
// device cannot be used, else 0.
int device_unusable(const RunContext& ctx) {
    if (!ctx.device_status.ok()) {
        std::fprintf(stderr, "kvmrace: %s\n", ctx.device_skip_reason().c_str());
        return kExitSkip;
    }
    if (std::string why = not_kvm_reason(ctx.options.device); !why.empty()) {
        std::fprintf(stderr, "kvmrace: %s\n", why.c_str());
        return kExitNotKvm;
    }
    return 0;
}

int count_kvm_tests(const std::vector<std::string>& tests) {
    return static_cast<int>(std::count_if(tests.begin(), tests.end(),
                                          [](const auto& t) { return t.starts_with("Kvm"); }));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    ParseResult parsed = parse_options(args);
    if (!parsed.error.empty()) {
        std::fprintf(stderr, "%s\n", parsed.error.c_str());
        return kExitUsage;
    }
    const Options& o = parsed.options;
    if (o.help) {
        std::fputs(usage_text().c_str(), stdout);
        return kExitPass;
    }
    if (o.version) {
        std::printf("kvmrace %s\n", KVMRACE_VERSION);
        return kExitPass;
    }
    init_logging(o.verbosity);
    if (has_gtest_flag(o, "--gtest_internal_run_death_test"))
        return run_death_test_child(argv[0], o);

    RunContext ctx;
    ctx.options = o;
    ctx.device_status = System::probe(o.device);
    ctx.seed = o.seed.value_or(
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    set_run_context(ctx);

    if (o.errata) {
        const std::string wedged = decide_run_errata(ctx, {true, true});
        std::fputs(
            errata_table(KernelVersion::running(), o.errata_from, ctx.errata_decisions).c_str(),
            stdout);
        if (!wedged.empty()) {
            std::fprintf(stderr, "kvmrace: %s\n", wedged.c_str());
            return kExitWedged;
        }
        return kExitPass;
    }
    if (o.caps) {
        if (int bad = device_unusable(ctx)) return bad;
        try {
            print_caps_table(System(o.device), stdout);
        } catch (const KvmError& e) {
            std::fprintf(stderr, "kvmrace: %s\n", e.what());
            return kExitFail;
        }
        return kExitPass;
    }

    if (o.explore || !o.scenario_spec.empty()) {
        // The race space outside GoogleTest: each point supervised as a catalog row is.
        if (int bad = device_unusable(ctx)) return bad;
        if (const std::string wedged = decide_run_errata(ctx, {true, false}); !wedged.empty()) {
            std::printf("BAIL  kvmrace: %s\n", wedged.c_str());
            return kExitWedged;
        }
        for (const ErratumDecision& d : ctx.errata_decisions)
            if (d.probe.outcome != ProbeOutcome::NotRun)
                std::printf("%s\n", decision_line(d).c_str());
        ExploreSettings es;
        es.device = o.device;
        es.budget_s = o.budget_s;
        es.corpus_dir = o.corpus_dir;
        es.seed = ctx.seed;
        es.hang_timeout_s = o.hang_timeout_s;
        es.errata = ctx.errata;
        if (o.iterations) es.prefault_iterations = es.run_iterations = *o.iterations;
        if (o.duration_s > 0) es.point_duration_s = o.duration_s;
        std::fflush(stdout);
        if (!o.scenario_spec.empty()) return replay_point(*parse_spec(o.scenario_spec).point, es);
        return explore(es);
    }

    GtestArgs gtest_args(argv[0], o);
    gtest_args.init();

    const bool also_disabled = has_gtest_flag(o, "--gtest_also_run_disabled_tests");
    std::vector<std::string> tests = selected_tests(gtest_filter(o), also_disabled);
    int selected = static_cast<int>(tests.size());
    if (o.list) {
        for (const auto& t : tests) std::printf("%s\n", describe_test(t).c_str());
        return kExitPass;
    }
    if (selected == 0) {
        std::fprintf(stderr, "kvmrace: no test matches --filter '%s'\n", o.filter.c_str());
        return kExitUsage;
    }
    const int kvm_tests = count_kvm_tests(tests);
    const bool device_ok = ctx.device_status.ok();
    // A node that opens but is not KVM would fail every KVM test the same way: say it once.
    if (kvm_tests > 0 && device_ok) {
        if (std::string why = not_kvm_reason(o.device); !why.empty()) {
            std::fprintf(stderr, "kvmrace: %s\n", why.c_str());
            return kExitNotKvm;
        }
    }
    // Every output file opens before the first test: a bad path must not cost a whole run.
    std::string error;
    std::optional<ReportFile> json_file, junit_file;
    if (!o.json_path.empty() && !(json_file = ReportFile::open("--json", o.json_path, error))) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return kExitUsage;
    }
    if (!o.junit_path.empty() && !(junit_file = ReportFile::open("--junit", o.junit_path, error))) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return kExitUsage;
    }
    // Races watch /dev/kmsg for splats; when it cannot be read, that check is off: say so once.
    const std::string splats_off = kvm_tests > 0 && device_ok ? kernel_log_unreadable() : "";
    const std::string splats_note =
        splats_off.empty() ? "" : "kernel splat detection off: " + splats_off;

    // Which known bugs this kernel has, before the first test: by probe (each a supervised child,
    // at most a few seconds, none unless a test needs it), else by version.
    if (const std::string wedged = decide_run_errata(ctx, probe_scope(tests)); !wedged.empty()) {
        std::printf("%sBAIL  kvmrace: %s\n", o.ktap ? "# " : "", wedged.c_str());
        return kExitWedged;
    }
    set_run_context(ctx);
    std::vector<std::string> errata_lines;
    for (const ErratumDecision& d : ctx.errata_decisions)
        if (d.probe.outcome != ProbeOutcome::NotRun) errata_lines.push_back(decision_line(d));

    // Under --ktap every byte on stdout is KTAP: notes are "# " diagnostics, and with no usable
    // device each KVM test still gets its own "ok N name # SKIP reason" line.
    const std::string folded_skip = device_ok ? "" : ctx.device_skip_reason();
    if (!o.ktap) {
        std::printf("kvmrace %s: %d tests, seed %llu%s\n", KVMRACE_VERSION, selected,
                    static_cast<unsigned long long>(ctx.seed), o.quick ? ", quick mode" : "");
        if (!splats_note.empty()) std::printf("NOTE  %s\n", splats_note.c_str());
        for (const auto& line : errata_lines) std::printf("%s\n", line.c_str());
        if (kvm_tests > 0 && !device_ok)
            std::printf("SKIP  all %d KVM tests: %s\n", kvm_tests, folded_skip.c_str());
    }
    std::fflush(stdout);

    Tally tally;
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    if (o.ktap) {
        listeners.Append(new TallyOnly(tally));
        listeners.Append(new KtapReport(selected));  // prints the version line and plan
        if (!splats_note.empty()) std::printf("# %s\n", splats_note.c_str());
        for (const auto& line : errata_lines) std::printf("# %s\n", line.c_str());
    } else {
        listeners.Append(new ResultPrinter(tally, folded_skip));
    }
    // Owned by us, not GoogleTest: released before they go out of scope.
    // A race row runs once per --seeds seed: the bound is per seed.
    TestDeadline deadline(std::chrono::seconds(o.test_timeout_s * o.seeds), tally);
    listeners.Append(&deadline);
    JsonReport json(ctx.seed, splats_off);
    json.set_errata(std::string(errata_source_name(o.errata_from)), ctx.errata_decisions);
    if (json_file) listeners.Append(&json);
    int gtest_status = RUN_ALL_TESTS();  // the tally, not this, decides the exit code
    spdlog::debug("gtest returned {}", gtest_status);
    listeners.Release(&deadline);
    if (json_file) listeners.Release(&json);
    if (o.ktap)
        std::printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", tally.passed(),
                    tally.failed(), tally.skipped());
    else
        std::printf("%s\n", tally.summary().c_str());
    std::fflush(stdout);

    // A report that could not be written fails the run, whatever the tests did.
    int status = tally.exit_code();
    if (json_file && !json_file->write(json.text(), error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        status = kExitFail;
    }
    if (junit_file && !junit_file->write(junit_xml(*testing::UnitTest::GetInstance()), error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        status = kExitFail;
    }
    return status;
}
