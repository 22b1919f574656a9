#include "report/result_printer.h"

#include <unistd.h>

#include <fmt/format.h>

#include "report/terminal.h"

#include <string>

namespace kvmrace {

namespace {

// First line of a (possibly multi-line) message, for the one-line SKIP reason.
std::string first_line(const char* msg) {
    std::string s = msg ? msg : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s;
}

// "  mutations=300 guest_passes=812 hits=290/300": the counters a test recorded.
std::string properties(const testing::TestResult& r) {
    std::string s;
    for (const auto& [key, value] : shown_properties(r))
        s += fmt::format("{}{}={}", s.empty() ? "  " : " ", key, value);
    return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> shown_properties(const testing::TestResult& r) {
    const char* total = nullptr;
    for (int i = 0; i < r.test_property_count(); ++i)
        if (std::string_view(r.GetTestProperty(i).key()) == "hit_iterations")
            total = r.GetTestProperty(i).value();
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.test_property_count(); ++i) {
        std::string key = r.GetTestProperty(i).key(), value = r.GetTestProperty(i).value();
        if (total && key == "hit_iterations") continue;
        if (total && key == "hits") value += std::string("/") + total;
        out.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

ResultPrinter::ResultPrinter(Tally& tally, std::string folded_skip, std::FILE* out)
    : tally_(tally),
      folded_skip_(std::move(folded_skip)),
      out_(out),
      colour_(is_interactive(::fileno(out))) {}

void ResultPrinter::OnTestEnd(const testing::TestInfo& info) {
    const testing::TestResult& r = *info.result();
    std::string name = fmt::format("{}.{}", info.test_suite_name(), info.name());
    if (r.Failed()) {
        tally_.add(Outcome::Fail);
        fmt::print(out_, "{}  {}  ({} ms){}\n", paint("FAIL", "31"), name, r.elapsed_time(),
                   properties(r));
        for (int i = 0; i < r.total_part_count(); ++i) {
            const testing::TestPartResult& p = r.GetTestPartResult(i);
            if (!p.failed()) continue;
            std::string where =
                p.file_name() ? fmt::format("{}:{}: ", p.file_name(), p.line_number()) : "";
            std::string msg = p.message();
            for (size_t pos = 0; (pos = msg.find('\n', pos)) != std::string::npos; pos += 7)
                msg.replace(pos, 1, "\n      ");
            fmt::print(out_, "      {}{}\n", where, msg);
        }
    } else if (r.Skipped()) {
        tally_.add(Outcome::Skip);
        std::string reason;
        for (int i = 0; i < r.total_part_count(); ++i)
            if (r.GetTestPartResult(i).skipped())
                reason = first_line(r.GetTestPartResult(i).message());
        if (!folded_skip_.empty() && reason == folded_skip_) return;
        fmt::print(out_, "{}  {}: {}\n", paint("SKIP", "33"), name,
                   reason.empty() ? "(no reason given)" : reason);
    } else {
        tally_.add(Outcome::Pass);
        fmt::print(out_, "{}  {}  ({} ms){}\n", paint("PASS", "32"), name, r.elapsed_time(),
                   properties(r));
    }
    std::fflush(out_);
}

}  // namespace kvmrace
