// KTAP and JUnit output of the real binary, on a fixture suite with one PASS, one FAIL and one
// SKIP: the KTAP must parse under KTAP v1's rules; the JUnit must validate against the schema.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace kvmrace {
namespace {

// The fixture (harness fault injection): DISABLED_, so it runs only when the tests below ask.
TEST(UnitReportFixture, DISABLED_Passes) { RecordProperty("answer", "42"); }
TEST(UnitReportFixture, DISABLED_Fails) { ADD_FAILURE() << "deliberate failure <&> with\na second line"; }
TEST(UnitReportFixture, DISABLED_Skips) { GTEST_SKIP() << "KVM_CAP_PRE_FAULT_MEMORY=0 (cap 236)"; }

std::string run_self(const std::string& args) {
    std::string cmd = "/proc/" + std::to_string(::getpid()) +
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

struct KtapResult {
    bool ok;
    int number;
    std::string name, directive;
};

// A strict KTAP v1 parser: version line, plan, numbered results in order, "# " diagnostics.
std::vector<KtapResult> parse_ktap(const std::string& text, std::string& error) {
    std::istringstream in(text);
    std::string line;
    std::vector<KtapResult> results;
    if (!std::getline(in, line) || line != "KTAP version 1") return error = "no version line: " + line, results;
    if (!std::getline(in, line)) return error = "no plan", results;
    std::smatch m;
    if (!std::regex_match(line, m, std::regex(R"(1\.\.(\d+))"))) return error = "bad plan: " + line, results;
    const int planned = std::stoi(m[1]);
    const std::regex result(R"((ok|not ok) (\d+) ([^#\s]+)(?: # (SKIP|TODO)(?: (.*))?)?)");
    while (std::getline(in, line)) {
        if (line.rfind("#", 0) == 0) continue;
        if (!std::regex_match(line, m, result)) return error = "not a KTAP line: " + line, results;
        KtapResult r{m[1] == "ok", std::stoi(m[2]), m[3], m[4]};
        if (r.number != static_cast<int>(results.size()) + 1) return error = "out of order: " + line, results;
        results.push_back(r);
    }
    if (static_cast<int>(results.size()) != planned) error = "plan says " + std::to_string(planned);
    return results;
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
    EXPECT_NE(out.find("ok 3 UnitReportFixture.DISABLED_Skips # SKIP KVM_CAP_PRE_FAULT_MEMORY=0 (cap 236)"), std::string::npos);
    EXPECT_NE(out.find("# deliberate failure <&> with\n# a second line\n"), std::string::npos) << out;
    EXPECT_NE(out.find("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0"), std::string::npos);
}

TEST(UnitReportFormats, JunitValidatesAgainstTheSchema) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
    std::string xml = "/tmp/kvmrace-junit-" + std::to_string(::getpid()) + ".xml";
    run_self("--junit=" + xml);
    std::string schema = std::string(KVMRACE_SOURCE_DIR) + "/tests/data/junit.xsd";
    int rc = std::system(("xmllint --noout --schema " + schema + " " + xml + " 2>/dev/null").c_str());
    std::ifstream f(xml);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::remove(xml.c_str());
    EXPECT_EQ(rc, 0) << text;
    EXPECT_NE(text.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos) << text;
    EXPECT_NE(text.find("deliberate failure &lt;&amp;&gt;"), std::string::npos) << text;
}

}  // namespace
}  // namespace kvmrace
