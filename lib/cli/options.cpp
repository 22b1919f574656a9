#include "cli/options.h"

#include <algorithm>

#include <charconv>

#include <fmt/format.h>

#include "explore/race_space.h"
#include "kernel/errata.h"

namespace kvmrace {

namespace {

std::optional<double> parse_seconds(std::string_view s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !(v > 0) || v > 1e6)
        return std::nullopt;
    return v;
}

// "90", "90s", "30m", "2h": seconds.
std::optional<double> parse_budget(std::string_view s) {
    double scale = 1;
    if (!s.empty() && (s.back() == 's' || s.back() == 'm' || s.back() == 'h')) {
        scale = s.back() == 'h' ? 3600 : s.back() == 'm' ? 60 : 1;
        s.remove_suffix(1);
    }
    auto v = parse_seconds(s);
    if (!v) return std::nullopt;
    return *v * scale;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
    uint64_t v = 0;
    int base = 10;
    if (s.starts_with("0x")) {
        s.remove_prefix(2);
        base = 16;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// Options that take no value: each sets fields of Options.
struct SwitchFlag {
    std::string_view names[2];
    void (*apply)(Options&);
};
constexpr SwitchFlag kSwitches[] = {
    {{"-h", "--help"}, [](Options& o) { o.help = true; }},
    {{"--version"}, [](Options& o) { o.version = true; }},
    {{"--caps"}, [](Options& o) { o.caps = true; }},
    {{"--list"}, [](Options& o) { o.list = true; }},
    {{"--errata"}, [](Options& o) { o.errata = true; }},
    {{"--force"}, [](Options& o) { o.force = true; }},
    {{"--expect-errata"}, [](Options& o) { o.expect_errata = o.force = true; }},
    {{"--quick"}, [](Options& o) { o.quick = true; }},
    {{"--all"}, [](Options& o) { o.selection = Selection::All; }},
    {{"--unit"}, [](Options& o) { o.selection = Selection::Unit; }},
    {{"--ktap"}, [](Options& o) { o.ktap = true; }},
    {{"--no-pin"}, [](Options& o) { o.pin = false; }},
};
const SwitchFlag* switch_flag(std::string_view key) {
    for (const auto& f : kSwitches)
        if (f.names[0] == key || f.names[1] == key) return &f;
    return nullptr;
}

// Options whose value is a non-empty string.
struct TextOption {
    std::string_view name;
    std::string Options::*member;
    std::string_view what;
};
constexpr TextOption kTextOptions[] = {
    {"--filter", &Options::filter, "a pattern"},
    {"--json", &Options::json_path, "a file name"},
    {"--junit", &Options::junit_path, "a file name"},
    {"--device", &Options::device, "a path"},
};
const TextOption* text_option(std::string_view key) {
    for (const auto& t : kTextOptions)
        if (t.name == key) return &t;
    return nullptr;
}

// The flags GoogleTest 1.12 knows. It answers any other --gtest_* with its whole help text and
// runs nothing, so we reject those ourselves in one line.
constexpr std::string_view kGtestFlags[] = {"also_run_disabled_tests",
                                            "break_on_failure",
                                            "brief",
                                            "catch_exceptions",
                                            "color",
                                            "death_test_style",
                                            "death_test_use_fork",
                                            "fail_fast",
                                            "filter",
                                            "flagfile",
                                            "install_failure_signal_handler",
                                            "internal_run_death_test",
                                            "list_tests",
                                            "output",
                                            "print_time",
                                            "print_utf8",
                                            "random_seed",
                                            "recreate_environments_when_repeating",
                                            "repeat",
                                            "show_internal_stack_frames",
                                            "shuffle",
                                            "stack_trace_depth",
                                            "stream_result_to",
                                            "throw_on_failure"};
bool known_gtest_flag(std::string_view key) {
    key.remove_prefix(std::string_view("--gtest_").size());
    for (auto f : kGtestFlags)
        if (f == key) return true;
    return false;
}

}  // namespace

std::string usage_text() {
    return R"(usage: kvmrace [options] [--gtest_*...]
Races KVM ioctls against memslot changes on this host's /dev/kvm and checks KVM's contract.

  --all               run the unit tests and the KVM tests
  --unit              run only the harness unit tests
  --quick             fewer race iterations (what `make check` uses)
  --filter=PATTERN    GoogleTest pattern of tests to run (e.g. 'KvmMemslot*')
  --iterations=N      iterations of each race loop (default: quick 200, full 2000 for
                      prefault races; quick 1000, full 20000 for KVM_RUN races)
  --seed=N            seed for every random choice (default: from the clock; printed)
  --seeds=N           race scenarios: run each at N seeds (seed .. seed+N-1) and report
                      "caught in k of n seeds" per row (default 1; at most 1000)
  --device=PATH       KVM device (default /dev/kvm)
  --test-timeout=S    a test still running after S seconds fails the run (default 300;
                      with --seeds N, N times that)
  --hang-timeout=S    race scenarios: no progress for S seconds is a HANG (default 2)
  --duration=S        race scenarios: a cap, not a run time: each stops after its iterations
                      or after S seconds, whichever comes first (default: no cap)
  --jitter-us=N       race scenarios: blind random start offsets of 0..N us instead of aiming
                      the mutation into the racing call (default 0: aim; N > 0 is for A/B runs)
  --no-pin            race scenarios: do not pin racing threads to CPUs
  --json=FILE         write the full record of the run as JSON
  --junit=FILE        write JUnit XML for CI systems
  --ktap              KTAP version 1 on stdout (kselftest runner, KernelCI) instead of the table
  --force             run scenarios that a known bug of this kernel would livelock
  --expect-errata     with --force: a known bug's HANG/FAIL counts as caught (XFAIL, passes)
  --errata            print the known kernel bugs against the running kernel and exit
  --assume-fixed=ID,..  this kernel carries the fix for these errata (a backport or a candidate
                      patch its version cannot show): their scenarios run and must pass
  --explore           sample the race space (explore/race_space.h) for --budget, keep every
                      non-PASS signature once in --corpus with its replay command
  --budget DURATION   how long --explore runs (90s, 30m, 2h; default 30m)
  --corpus DIR        where --explore keeps and resumes its findings (default kvmrace-corpus)
  --scenario-spec SPEC  run one point of the race space, e.g.
                      'actor=prefault,mutation=delete,backing=thp' (with --seed: a replay)
  --errata-from=probe|version|both
                      who decides which known bugs this kernel has: a short behaviour probe
                      of each bug (default; the version where the probe cannot tell), the
                      version alone, or either (present when one of them says so)
  --caps              print the capability table and exit
  --list              list the selected tests (race scenarios with what they need) and exit
  -v, -vv             more log output (info, debug); -q: errors only
  -h, --help          this text
  --version           print the version

Exit status: 0 all ran and passed, 1 a test failed or a report could not be written, 2 bad
usage or an output file that cannot be opened, 4 everything skipped (no KVM access too),
5 the device is not KVM, 6 an errata probe's livelock could not be freed (the kernel is wedged).
)";
}

ParseResult parse_options(std::span<const std::string_view> args) {
    ParseResult r;
    Options& o = r.options;
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        std::string_view key = a, value;
        bool has_value = false;
        if (auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
            key = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        auto take_value = [&]() -> std::optional<std::string_view> {
            if (has_value) return value;
            if (i + 1 < args.size()) return args[++i];
            return std::nullopt;
        };
        auto take_u64 = [&](std::optional<uint64_t>& out) -> bool {
            auto v = take_value();
            if (!v) {
                r.error = fmt::format("kvmrace: {} needs a value", key);
                return false;
            }
            out = parse_u64(*v);
            if (!out)
                r.error =
                    fmt::format("kvmrace: {} wants a non-negative integer, got '{}'", key, *v);
            return out.has_value();
        };
        auto no_value = [&]() -> bool {
            if (has_value) r.error = fmt::format("kvmrace: {} takes no value", key);
            return !has_value;
        };
        if (key.starts_with("--gtest_")) {
            if (!known_gtest_flag(key))
                return fail(fmt::format("kvmrace: unknown GoogleTest flag '{}' (see --help)", key));
            o.gtest_args.emplace_back(a);
        } else if (auto flag = switch_flag(key)) {
            if (!no_value()) return r;
            flag->apply(o);
        } else if (key == "-q" || key == "--quiet") {
            o.verbosity = -1;
        } else if (key == "-v" || key == "-vv" || key == "-vvv" || key == "--verbose") {
            o.verbosity = key == "--verbose" ? 1 : static_cast<int>(key.size()) - 1;
        } else if (auto field = text_option(key)) {
            auto v = take_value();
            if (!v || v->empty())
                return fail(fmt::format("kvmrace: {} needs {}", key, field->what));
            o.*(field->member) = std::string(*v);
        } else if (key == "--assume-fixed") {
            auto v = take_value();
            if (!v || v->empty()) return fail("kvmrace: --assume-fixed needs erratum ids");
            for (std::string_view rest = *v; !rest.empty();) {
                std::string_view id = rest.substr(0, rest.find(','));
                rest.remove_prefix(std::min(rest.size(), id.size() + 1));
                if (!find_erratum(id))
                    return fail(fmt::format(
                        "kvmrace: --assume-fixed: no erratum '{}' (kvmrace --errata lists them)",
                        id));
                o.assume_fixed.emplace_back(id);
            }
        } else if (key == "--errata-from") {
            auto v = take_value();
            auto src = v ? parse_errata_source(*v) : std::nullopt;
            if (!src)
                return fail(
                    fmt::format("kvmrace: --errata-from wants probe, version or both, got '{}'",
                                v ? std::string(*v) : ""));
            o.errata_from = *src;
        } else if (key == "--iterations") {
            if (!take_u64(o.iterations)) return r;
            if (*o.iterations == 0) return fail("kvmrace: --iterations must be at least 1");
        } else if (key == "--seed") {
            if (!take_u64(o.seed)) return r;
        } else if (key == "--seeds") {
            std::optional<uint64_t> n;
            if (!take_u64(n)) return r;
            if (*n == 0 || *n > 1000) return fail("kvmrace: --seeds must be 1 to 1000");
            o.seeds = *n;
        } else if (key == "--hang-timeout" || key == "--duration") {
            auto v = take_value();
            if (!v) return fail(fmt::format("kvmrace: {} needs a value in seconds", key));
            auto secs = parse_seconds(*v);
            if (!secs)
                return fail(fmt::format("kvmrace: {} wants a positive number of seconds, got '{}'",
                                        key, *v));
            (key == "--duration" ? o.duration_s : o.hang_timeout_s) = *secs;
        } else if (key == "--explore") {
            if (!no_value()) return r;
            o.explore = true;
        } else if (key == "--budget") {
            auto v = take_value();
            auto secs = v ? parse_budget(*v) : std::nullopt;
            if (!secs)
                return fail(
                    fmt::format("kvmrace: --budget wants a duration (90s, 30m, 2h), got '{}'",
                                v ? std::string(*v) : ""));
            o.budget_s = *secs;
        } else if (key == "--corpus") {
            auto v = take_value();
            if (!v || v->empty()) return fail("kvmrace: --corpus needs a directory");
            o.corpus_dir = std::string(*v);
        } else if (key == "--scenario-spec") {
            auto v = take_value();
            if (!v) return fail("kvmrace: --scenario-spec needs axis=value,...");
            SpecParse sp = parse_spec(*v);
            if (!sp.point) return fail("kvmrace: --scenario-spec: " + sp.error);
            o.scenario_spec = std::string(*v);
        } else if (key == "--jitter-us") {
            std::optional<uint64_t> j;
            if (!take_u64(j)) return r;
            if (*j > 1'000'000) return fail("kvmrace: --jitter-us must be at most 1000000");
            o.jitter_us = static_cast<unsigned>(*j);
        } else if (key == "--test-timeout") {
            std::optional<uint64_t> t;
            if (!take_u64(t)) return r;
            if (*t == 0) return fail("kvmrace: --test-timeout must be at least 1");
            o.test_timeout_s = *t;
        } else {
            return fail(fmt::format("kvmrace: unknown option '{}' (see --help)", a));
        }
    }
    return r;
}

std::string gtest_filter(const Options& o) {
    // Suites are named Unit* (harness logic) and Kvm* (against /dev/kvm).
    std::string exclude;
    switch (o.selection) {
        case Selection::Kvm: exclude = "Unit*"; break;
        case Selection::Unit: exclude = "Kvm*"; break;
        case Selection::All: break;
    }
    if (exclude.empty()) return o.filter;
    if (o.filter.find('-') != std::string::npos) return o.filter + ":" + exclude;
    return o.filter + "-" + exclude;
}

}  // namespace kvmrace
