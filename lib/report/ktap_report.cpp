#include "report/ktap_report.h"

#include <fmt/format.h>

#include "report/result_printer.h"

namespace kvmrace {

std::string ktap_name(std::string_view name) {
    std::string s(name);
    for (char& c : s)
        if (c == '#' || c == ' ' || c == '\t' || c == '\n') c = '_';
    return s;
}

KtapReport::KtapReport(int planned, std::FILE* out) : out_(out) {
    fmt::print(out_, "KTAP version 1\n1..{}\n", planned);
    std::fflush(out_);
}

void KtapReport::OnTestEnd(const testing::TestInfo& info) {
    const testing::TestResult& r = *info.result();
    std::string name = ktap_name(fmt::format("{}.{}", info.test_suite_name(), info.name()));
    std::string skip_reason;
    for (int i = 0; i < r.total_part_count(); ++i) {
        const auto& p = r.GetTestPartResult(i);
        std::string msg = p.message();
        if (p.skipped()) {
            skip_reason = msg.substr(0, msg.find('\n'));
            continue;
        }
        if (!p.failed()) continue;
        if (p.file_name()) fmt::print(out_, "# {}:{}\n", p.file_name(), p.line_number());
        size_t start = 0;
        while (start < msg.size()) {
            size_t nl = msg.find('\n', start);
            fmt::print(out_, "# {}\n",
                       msg.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
    }
    for (const auto& [key, value] : shown_properties(r))
        fmt::print(out_, "# {}: {}={}\n", name, key, value);
    ++number_;
    if (r.Skipped())
        fmt::print(out_, "ok {} {} # SKIP {}\n", number_, name,
                   skip_reason.empty() ? "no reason given" : skip_reason);
    else
        fmt::print(out_, "{} {} {}\n", r.Failed() ? "not ok" : "ok", number_, name);
    std::fflush(out_);
}

}  // namespace kvmrace
