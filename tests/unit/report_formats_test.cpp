// KTAP and JUnit output of the real binary, on a fixture suite with one PASS, one FAIL and one
// SKIP: the KTAP must parse under KTAP v1's rules; the JUnit must validate against the schema.
// Without KVM access too: every byte of an all-skip stream (and one with a death test) is KTAP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"

namespace kvmrace {
namespace {

// The fixture (harness fault injection): DISABLED_, so it runs only when the tests below ask.
TEST(UnitReportFixture, DISABLED_Passes) { RecordProperty("answer", "42"); }
TEST(UnitReportFixture, DISABLED_Fails) {
    ADD_FAILURE() << "deliberate failure <&> with\na second line";
}
TEST(UnitReportFixture, DISABLED_Skips) { GTEST_SKIP() << "KVM_CAP_PRE_FAULT_MEMORY=0 (cap 236)"; }

std::string run_self(const std::string& args) {
    std::string cmd =
        "/proc/" + std::to_string(::getpid()) +
        "/exe --unit --filter='UnitReportFixture.*' --gtest_also_run_disabled_tests " + args +
        " 2>/dev/null";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

// An installed kvmrace reads the schema installed next to it (PREFIX/share/kvmrace); a build-dir
// binary, the source tree's.
std::string junit_schema() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto installed = exe.parent_path().parent_path() / "share" / "kvmrace" / "junit.xsd";
    if (!ec && std::filesystem::exists(installed)) return installed.string();
    return std::string(KVMRACE_SOURCE_DIR) + "/tests/data/junit.xsd";
}

struct KtapResult {
    bool ok;
    int number;
    std::string name, directive;
};

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A strict KTAP v1 parser: version line, plan, numbered results in order, "# " diagnostics.
std::vector<KtapResult> parse_ktap(const std::string& text, std::string& error) {
    std::istringstream in(text);
    std::string line;
    std::vector<KtapResult> results;
    if (!std::getline(in, line) || line != "KTAP version 1")
        return error = "no version line: " + line, results;
    if (!std::getline(in, line) || line.rfind("1..", 0) != 0 || !all_digits(line.substr(3)))
        return error = "bad plan: " + line, results;
    const int planned = std::stoi(line.substr(3));
    while (std::getline(in, line)) {
        if (line == "#" || line.rfind("# ", 0) == 0) continue;
        KtapResult r{};
        std::string_view rest = line;
        if (rest.rfind("not ok ", 0) == 0)
            rest.remove_prefix(7);
        else if (rest.rfind("ok ", 0) == 0)
            r.ok = true, rest.remove_prefix(3);
        else
            return error = "not a KTAP line: " + line, results;
        size_t sp = rest.find(' ');
        if (sp == std::string_view::npos || !all_digits(rest.substr(0, sp)))
            return error = "no number: " + line, results;
        r.number = std::stoi(std::string(rest.substr(0, sp)));
        rest.remove_prefix(sp + 1);
        size_t hash = rest.find(" # ");
        r.name = std::string(rest.substr(0, hash));
        if (r.name.empty() || r.name.find_first_of(" #") != std::string::npos)
            return error = "bad name: " + line, results;
        if (hash != std::string_view::npos) {
            std::string_view directive = rest.substr(hash + 3);
            r.directive = std::string(directive.substr(0, directive.find(' ')));
            if (r.directive != "SKIP" && r.directive != "TODO")
                return error = "bad directive: " + line, results;
        }
        if (r.number != static_cast<int>(results.size()) + 1)
            return error = "out of order: " + line, results;
        results.push_back(r);
    }
    if (static_cast<int>(results.size()) != planned) error = "plan says " + std::to_string(planned);
    return results;
}

std::string fmt_totals(int pass, int fail, int skip) {
    return "# Totals: pass:" + std::to_string(pass) + " fail:" + std::to_string(fail) +
           " xfail:0 xpass:0 skip:" + std::to_string(skip) + " error:0\n";
}

TEST(UnitReportFormats, KtapParsesWithOneResultPerTest) {
    std::string out = run_self("--ktap");
    std::string error;
    auto results = parse_ktap(out, error);
    ASSERT_EQ(error, "") << out;
    ASSERT_EQ(results.size(), 3u) << out;
    EXPECT_TRUE(results[0].ok);
    EXPECT_EQ(results[0].name, "UnitReportFixture.DISABLED_Passes");
    EXPECT_FALSE(results[1].ok);
    EXPECT_TRUE(results[2].ok);
    EXPECT_EQ(results[2].directive, "SKIP");
    EXPECT_NE(
        out.find(
            "ok 3 UnitReportFixture.DISABLED_Skips # SKIP KVM_CAP_PRE_FAULT_MEMORY=0 (cap 236)"),
        std::string::npos);
    EXPECT_NE(out.find("# deliberate failure <&> with\n# a second line\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0"),
              std::string::npos);
}

// Without KVM access, a KTAP run of KVM tests is all skips, one result line each, with the reason.
TEST(UnitReportFormats, KtapWithoutKvmAccessIsAnAllSkipStream) {
    const test::Condition c = test::without_kvm_access();
    if (!c.unavailable.empty()) GTEST_SKIP() << c.unavailable;
    test::ChildResult r =
        test::run_child(c.prefix, test::self_exe(), {"--ktap", "--filter=KvmSystem.*"});
    std::string error;
    auto results = parse_ktap(r.out, error);
    ASSERT_EQ(error, "") << r.out;
    ASSERT_GT(results.size(), 0u);
    for (const auto& k : results) EXPECT_EQ(k.directive, "SKIP") << r.out;
    EXPECT_NE(r.out.find(" # SKIP /dev/kvm: "), std::string::npos) << r.out;
    EXPECT_TRUE(r.out.ends_with(fmt_totals(0, 0, static_cast<int>(results.size())))) << r.out;
    EXPECT_EQ(r.exit_code, 4);
}

// Unit tests (a death test among them, whose child must print nothing) beside skipped KVM tests.
TEST(UnitReportFormats, KtapWithoutKvmAccessStaysKtapAroundUnitTests) {
    const test::Condition c = test::without_kvm_access();
    if (!c.unavailable.empty()) GTEST_SKIP() << c.unavailable;
    test::ChildResult r =
        test::run_child(c.prefix, test::self_exe(),
                        {"--ktap", "--all", "--quick", "--filter=UnitTestDeadline*:KvmSystem.*"});
    std::string error;
    auto results = parse_ktap(r.out, error);
    ASSERT_EQ(error, "") << r.out;
    ASSERT_GT(results.size(), 2u);
    EXPECT_EQ(results[0].name, "UnitTestDeadlineDeathTest.StuckTestEndsTheRunWithItsName");
    EXPECT_TRUE(results[0].ok && results[0].directive.empty()) << r.out;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(UnitReportFormats, JunitValidatesAgainstTheSchema) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
    std::string xml = "/tmp/kvmrace-junit-" + std::to_string(::getpid()) + ".xml";
    run_self("--junit=" + xml);
    std::string schema = junit_schema();
    int rc =
        std::system(("xmllint --noout --schema " + schema + " " + xml + " 2>/dev/null").c_str());
    std::ifstream f(xml);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::remove(xml.c_str());
    EXPECT_EQ(rc, 0) << text;
    EXPECT_NE(text.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("deliberate failure &lt;&amp;&gt;"), std::string::npos) << text;
}

}  // namespace
}  // namespace kvmrace
