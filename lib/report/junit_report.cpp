#include "report/junit_report.h"

#include <fmt/format.h>

namespace kvmrace {

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 allows no control characters but tab, newline and carriage return.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    out += '?';
                else
                    out += c;
        }
    }
    return out;
}

std::string junit_xml(const testing::UnitTest& unit) {
    std::string body;
    int all = 0, all_failed = 0, all_skipped = 0;
    for (int s = 0; s < unit.total_test_suite_count(); ++s) {
        const testing::TestSuite& suite = *unit.GetTestSuite(s);
        std::string cases;
        int tests = 0, failures = 0, skipped = 0;
        for (int t = 0; t < suite.total_test_count(); ++t) {
            const testing::TestInfo& info = *suite.GetTestInfo(t);
            if (!info.should_run()) continue;
            const testing::TestResult& r = *info.result();
            ++tests;
            cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n",
                                 xml_escape(suite.name()), xml_escape(info.name()),
                                 r.elapsed_time() / 1000.0);
            std::string text;
            for (int i = 0; i < r.total_part_count(); ++i)
                text += r.GetTestPartResult(i).message() + std::string("\n");
            if (r.Failed()) {
                ++failures;
                cases += fmt::format("      <failure message=\"{}\">{}</failure>\n",
                                     xml_escape(text.substr(0, text.find('\n'))), xml_escape(text));
            } else if (r.Skipped()) {
                ++skipped;
                cases += fmt::format("      <skipped message=\"{}\"/>\n",
                                     xml_escape(text.substr(0, text.find('\n'))));
            }
            if (r.test_property_count()) {
                cases += "      <properties>\n";
                for (int i = 0; i < r.test_property_count(); ++i)
                    cases += fmt::format("        <property name=\"{}\" value=\"{}\"/>\n",
                                         xml_escape(r.GetTestProperty(i).key()),
                                         xml_escape(r.GetTestProperty(i).value()));
                cases += "      </properties>\n";
            }
            cases += "    </testcase>\n";
        }
        if (tests == 0) continue;
        body += fmt::format(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
            "time=\"{:.3f}\">\n{}  </testsuite>\n",
            xml_escape(suite.name()), tests, failures, skipped, suite.elapsed_time() / 1000.0,
            cases);
        all += tests;
        all_failed += failures;
        all_skipped += skipped;
    }
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kvmrace\" tests=\"{}\" "
        "failures=\"{}\" errors=\"0\" skipped=\"{}\">\n{}</testsuites>\n",
        all, all_failed, all_skipped, body);
}

}  // namespace kvmrace
