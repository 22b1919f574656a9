// kvmrace: one binary for the unit tests and the KVM tests. Parses our options, maps them onto
// GoogleTest, prints one line per test and the closing "N passed, N failed, N skipped".
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/options.h"
#include "cli/run_context.h"
#include "cli/test_filter.h"
#include "kernel/errata.h"
#include "kvm/kvm_error.h"
#include "kvm/system.h"
#include "race/scenario.h"
#include "report/caps_table.h"
#include "report/json_report.h"
#include "report/junit_report.h"
#include "report/ktap_report.h"
#include "report/result_printer.h"
#include "report/tally.h"
#include "report/test_deadline.h"
#include "util/logging.h"

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
        std::string needs = s.actor == Actor::Prefault ? "KVM_CAP_PRE_FAULT_MEMORY" : "KVM_RUN";
        if (s.backing == RaceBacking::GuestMemfdShared) needs += ", guest_memfd MMAP|INIT_SHARED";
        if (s.backing == RaceBacking::GuestMemfdPrivate)
            needs += ", VM type 1 (SW_PROTECTED), memory attributes";
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

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    ParseResult parsed = parse_options(args);
    if (!parsed.error.empty()) {
        std::fprintf(stderr, "%s\n", parsed.error.c_str());
        return Tally::kExitUsage;
    }
    const Options& o = parsed.options;
    if (o.help) {
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    }
    if (o.version) {
        std::printf("kvmrace %s\n", KVMRACE_VERSION);
        return 0;
    }
    init_logging(o.verbosity);

    RunContext ctx;
    ctx.options = o;
    ctx.device_status = System::probe(o.device);
    ctx.seed = o.seed.value_or(
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    set_run_context(ctx);

    if (o.errata) {
        std::fputs(errata_table(KernelVersion::running(), o.assume_fixed).c_str(), stdout);
        return 0;
    }
    if (o.caps) {
        if (!ctx.device_status.ok()) {
            std::fprintf(stderr, "kvmrace: %s\n", ctx.device_skip_reason().c_str());
            return Tally::kExitSkip;
        }
        try {
            print_caps_table(System(o.device), stdout);
        } catch (const KvmError& e) {
            std::fprintf(stderr, "kvmrace: %s\n", e.what());
            return Tally::kExitFail;
        }
        return 0;
    }

    // GoogleTest gets our filter plus any --gtest_* flags; it never sees our own options.
    std::vector<std::string> gargs{argv[0], "--gtest_filter=" + gtest_filter(o)};
    for (const auto& a : o.gtest_args) gargs.push_back(a);
    std::vector<char*> gargv;
    for (auto& a : gargs) gargv.push_back(a.data());
    int gargc = static_cast<int>(gargv.size());
    gargv.push_back(nullptr);  // argv[argc] is NULL; GoogleTest shifts it down when removing flags
    testing::InitGoogleTest(&gargc, gargv.data());

    const bool also_disabled = has_gtest_flag(o, "--gtest_also_run_disabled_tests");
    std::vector<std::string> tests = selected_tests(gtest_filter(o), also_disabled);
    int selected = static_cast<int>(tests.size());
    if (o.list) {
        for (const auto& t : tests) std::printf("%s\n", describe_test(t).c_str());
        return 0;
    }
    if (selected == 0) {
        std::fprintf(stderr, "kvmrace: no test matches --filter '%s'\n", o.filter.c_str());
        return Tally::kExitUsage;
    }
    // With only KVM tests selected and no usable device, one line says why instead of N skips.
    if (o.selection == Selection::Kvm && !ctx.device_status.ok()) {
        Tally tally;
        for (int i = 0; i < selected; ++i) tally.add(Outcome::Skip);
        std::printf("SKIP  all %d KVM tests: %s\n%s\n", selected, ctx.device_skip_reason().c_str(),
                    tally.summary().c_str());
        return tally.exit_code();
    }

    const bool death_test_child = has_gtest_flag(o, "--gtest_internal_run_death_test");
    if (!death_test_child && !o.ktap) {
        std::printf("kvmrace %s: %d tests, seed %llu%s\n", KVMRACE_VERSION, selected,
                    static_cast<unsigned long long>(ctx.seed), o.quick ? ", quick mode" : "");
        std::fflush(stdout);
    }
    Tally tally;
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    if (o.ktap) {
        listeners.Append(new TallyOnly(tally));
        listeners.Append(new KtapReport(selected));
    } else {
        listeners.Append(new ResultPrinter(tally));
    }
    if (!o.junit_path.empty()) listeners.Append(new JunitReport(o.junit_path));
    // Owned by us, not GoogleTest: its watcher thread must stop before main returns.
    TestDeadline deadline(std::chrono::seconds(o.test_timeout_s), tally);
    listeners.Append(&deadline);
    if (!o.json_path.empty()) listeners.Append(new JsonReport(o.json_path, ctx.seed));
    int gtest_status = RUN_ALL_TESTS();  // the tally, not this, decides the exit code
    spdlog::debug("gtest returned {}", gtest_status);
    listeners.Release(&deadline);
    if (o.ktap)
        std::printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", tally.passed(),
                    tally.failed(), tally.skipped());
    else
        std::printf("%s\n", tally.summary().c_str());
    return tally.exit_code();
}
