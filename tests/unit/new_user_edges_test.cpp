// What a new user meets, each as the built binary run in a child process under the condition:
// output paths that cannot be written, no /dev/kvm access, no /dev/kvm, a /dev/kvm that is not
// KVM, no CAP_SYSLOG, a bogus GoogleTest flag. Exact exit codes and the one line each.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "child_process.h"
#include "race/scenario.h"
#include "report/exit_status.h"

namespace kvmrace::test {
namespace {

#define KVMRACE_REQUIRE(condition)     \
    const Condition cond_ = condition; \
    if (!cond_.unavailable.empty()) GTEST_SKIP() << cond_.unavailable

// The harness tests that must pass anywhere: the death test re-executes the binary.
const std::vector<std::string> kUnitArgs = {"--unit", "--filter=UnitTestDeadline*:UnitTally*"};

int count_prefix(const std::vector<std::string>& lines, std::string_view prefix) {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(),
                                          [&](const auto& l) { return l.starts_with(prefix); }));
}

int kvm_system_tests() {
    return static_cast<int>(
        run_child("", self_exe(), {"--list", "--filter=KvmSystem.*"}).out_lines().size());
}

struct BadPath {
    std::vector<std::string> args;
    const char* error;
};

class UnitEdgesOutputPath : public testing::TestWithParam<BadPath> {};

TEST_P(UnitEdgesOutputPath, IsAUsageErrorBeforeTheFirstTest) {
    std::vector<std::string> args = {"--unit", "--filter=UnitTally.SummaryLine"};
    args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
    ChildResult r = run_child("", self_exe(), args);
    EXPECT_EQ(r.exit_code, kExitUsage);
    EXPECT_EQ(r.err, std::string(GetParam().error) + "\n");
    EXPECT_EQ(r.out, "") << "no test may run before the report is known to be writable";
}

INSTANTIATE_TEST_SUITE_P(
    , UnitEdgesOutputPath,
    testing::Values(BadPath{{"--json", "/nonexistent/dir/x.json"},
                            "kvmrace: --json /nonexistent/dir/x.json: No such file or directory"},
                    BadPath{{"--junit", "/proc/x"},
                            "kvmrace: --junit /proc/x: No such file or directory"},
                    BadPath{{"--junit=/tmp"}, "kvmrace: --junit /tmp: Is a directory"}));

TEST(UnitEdges, ReportThatCannotBeWrittenAtTheEndFailsTheRun) {
    // /dev/full is the one file that opens but fails every write; a minimal /dev (some
    // containers) has none.
    struct stat st {};
    if (::stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        GTEST_SKIP() << "/dev/full: " << (errno ? std::strerror(errno) : "not a character device")
                     << ": no file that opens but cannot be written";
    ChildResult r =
        run_child("", self_exe(), {"--unit", "--filter=UnitTally.SummaryLine", "--json=/dev/full"});
    EXPECT_EQ(r.exit_code, kExitFail);
    EXPECT_EQ(r.err, "kvmrace: cannot write --json /dev/full: No space left on device\n");
    EXPECT_TRUE(r.out.ends_with("\n1 passed, 0 failed, 0 skipped\n")) << r.out;
}

void expect_unit_tests_pass(const ChildResult& r) {
    EXPECT_EQ(r.exit_code, kExitPass) << r.out << r.err;
    auto lines = r.out_lines();
    EXPECT_EQ(count_prefix(lines, "SKIP"), 0) << r.out;
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "4 passed, 0 failed, 0 skipped"), 1) << r.out;
    EXPECT_EQ(count_prefix(lines, "FAIL"), 0) << r.out;
}

TEST(UnitEdges, UnitTestsPassWithoutKvmAccess) {
    KVMRACE_REQUIRE(without_kvm_access());
    expect_unit_tests_pass(run_child(cond_.prefix, self_exe(), kUnitArgs));
}

TEST(UnitEdges, UnitTestsPassWithoutDevKvm) {
    KVMRACE_REQUIRE(without_dev_kvm());
    expect_unit_tests_pass(run_child(cond_.prefix, self_exe(), kUnitArgs));
}

TEST(UnitEdges, NoKvmAccessIsOneSkipLineNamingOwnerGroupAndMode) {
    KVMRACE_REQUIRE(without_kvm_access());
    const int n = kvm_system_tests();
    ChildResult r = run_child(cond_.prefix, self_exe(), {"--filter=KvmSystem.*"});
    EXPECT_EQ(r.exit_code, kExitSkip);
    auto lines = r.out_lines();
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[2], fmt::format("0 passed, 0 failed, {} skipped", n));
    struct stat st {};
    if (::geteuid() == 0 && ::stat("/dev/kvm", &st) == 0) {
        EXPECT_TRUE(lines[1].starts_with(
            fmt::format("SKIP  all {} KVM tests: /dev/kvm: Permission denied (owner ", n)))
            << lines[1];
        EXPECT_NE(lines[1].find(fmt::format(", mode {:04o}: run as root", st.st_mode & 07777)),
                  std::string::npos)
            << lines[1];
    } else {
        EXPECT_TRUE(lines[1].starts_with(fmt::format("SKIP  all {} KVM tests: /dev/kvm: ", n)));
    }
}

TEST(UnitEdges, AbsentDevKvmIsOneSkipLine) {
    KVMRACE_REQUIRE(without_dev_kvm());
    const int n = kvm_system_tests();
    ChildResult r = run_child(cond_.prefix, self_exe(), {"--filter=KvmSystem.*"});
    EXPECT_EQ(r.exit_code, kExitSkip);
    auto lines = r.out_lines();
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[1], fmt::format("SKIP  all {} KVM tests: /dev/kvm: No such file or directory "
                                    "(is the kvm module loaded?)",
                                    n));
}

TEST(UnitEdges, UnknownGtestFlagIsOneLine) {
    ChildResult r = run_child("", self_exe(), {"--unit", "--gtest_bogus"});
    EXPECT_EQ(r.exit_code, kExitUsage);
    EXPECT_EQ(r.err, "kvmrace: unknown GoogleTest flag '--gtest_bogus' (see --help)\n");
    EXPECT_EQ(r.out, "");
}

TEST(UnitEdges, DeviceThatIsNotKvmIsOneLine) {
    ChildResult r = run_child("", self_exe(), {"--device=/dev/null", "--filter=KvmSystem.*"});
    EXPECT_EQ(r.exit_code, kExitNotKvm);
    EXPECT_EQ(r.err,
              "kvmrace: /dev/null is not a KVM device: KVM_GET_API_VERSION failed: ENOTTY "
              "(Inappropriate ioctl for device)\n");
    EXPECT_EQ(r.out, "");
}

TEST(UnitEdges, DevNullBindMountedOverDevKvmIsOneLine) {
    KVMRACE_REQUIRE(with_dev_kvm_not_kvm());
    ChildResult r = run_child(cond_.prefix, self_exe(), {"--filter=KvmSystem.*"});
    EXPECT_EQ(r.exit_code, kExitNotKvm);
    EXPECT_EQ(r.err,
              "kvmrace: /dev/kvm is not a KVM device: KVM_GET_API_VERSION failed: ENOTTY "
              "(Inappropriate ioctl for device)\n");
    EXPECT_EQ(r.out, "");
}

TEST(UnitEdges, UnreadableKmsgIsSaidOnceAndInTheJson) {
    KVMRACE_REQUIRE(without_cap_syslog());
    const std::string json = "/tmp/kvmrace-kmsg-" + std::to_string(::getpid()) + ".json";
    ChildResult r = run_child(cond_.prefix, self_exe(), {"--filter=KvmSystem.*", "--json", json});
    std::ifstream f(json);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::remove(json.c_str());
    EXPECT_EQ(r.exit_code, kExitPass) << r.out << r.err;
    const std::string note =
        "kernel splat detection off: /dev/kmsg: Operation not permitted (kernel.dmesg_restrict=1 "
        "needs CAP_SYSLOG)";
    auto lines = r.out_lines();
    ASSERT_GE(lines.size(), 2u) << r.out;
    EXPECT_EQ(lines[1], "NOTE  " + note);
    EXPECT_EQ(count_prefix(lines, "NOTE"), 1) << r.out;
    EXPECT_NE(text.find("\"splat_detection\": {\"on\": false, \"reason\": \"/dev/kmsg: Operation "
                        "not permitted"),
              std::string::npos)
        << text;
}

TEST(UnitEdges, ReadmeHardCodesNoTestCount) {
    std::ifstream f(std::string(KVMRACE_SOURCE_DIR) + "/README.md");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty());
    // "all <digits> KVM tests" anywhere (no <regex>: GCC 12 warns inside it under sanitizers).
    for (size_t at = text.find("all "); at != std::string::npos; at = text.find("all ", at + 1)) {
        size_t d = at + 4;
        while (d < text.size() && std::isdigit(static_cast<unsigned char>(text[d]))) ++d;
        EXPECT_FALSE(d > at + 4 && text.compare(d, 10, " KVM tests") == 0)
            << text.substr(at, d - at + 10);
    }
    EXPECT_EQ(text.find("join the kvm group"), std::string::npos);
}

TEST(UnitEdges, ListNamesTheVmTypeOfEveryScenarioThatNeedsOne) {
    ChildResult r = run_child("", self_exe(), {"--list", "--filter=KvmRace.Verdict/*"});
    ASSERT_EQ(r.exit_code, kExitPass);
    auto lines = r.out_lines();
    int checked = 0;
    for (const Scenario& s : scenario_catalog()) {
        if (s.vm_type == uapi::VmType::Default) continue;
        const std::string name = fmt::format("KvmRace.Verdict/{} ", s.name);
        auto it = std::find_if(lines.begin(), lines.end(),
                               [&](const auto& l) { return l.starts_with(name); });
        ASSERT_NE(it, lines.end()) << name;
        EXPECT_NE(it->find(fmt::format("VM type {} (", static_cast<unsigned long>(s.vm_type))),
                  std::string::npos)
            << *it;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST(UnitEdges, CapsColumnsAlign) {
    ChildResult r = run_child("", self_exe(), {"--caps"});
    if (r.exit_code != kExitPass) GTEST_SKIP() << "--caps needs KVM: " << r.err;
    auto lines = r.out_lines();
    ASSERT_GE(lines.size(), 3u);
    for (size_t i = 2; i < lines.size() && !lines[i].starts_with("VM types"); ++i)
        EXPECT_EQ(lines[i].size(), lines[1].size()) << lines[1] << "\n" << lines[i];
}

TEST(UnitEdges, DurationIsDocumentedAsACap) {
    ChildResult r = run_child("", self_exe(), {"--help"});
    EXPECT_EQ(r.exit_code, kExitPass);
    EXPECT_NE(r.out.find("--duration=S        race scenarios: a cap, not a run time"),
              std::string::npos)
        << r.out;
}

TEST(UnitEdges, BenchHelpPrintsUsageAndRunsNothing) {
    const std::string bench = sibling_exe("kvmrace-bench");
    if (::access(bench.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << bench;
    ChildResult r = run_child("", bench, {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.out.starts_with("usage: kvmrace-bench [ITERATIONS]")) << r.out;
    EXPECT_NE(r.out.find("--race"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("passed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace kvmrace::test
