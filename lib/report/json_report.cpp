#include "report/json_report.h"

#include <sys/utsname.h>

#include <fstream>

#include <fmt/format.h>

namespace kvmrace {

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20)
                    out += fmt::format("\\u{:04x}", c);
                else
                    out += c;
        }
    }
    return out;
}

namespace {

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

}  // namespace

void JsonReport::OnTestEnd(const testing::TestInfo& info) {
    const testing::TestResult& r = *info.result();
    std::string outcome = r.Failed() ? "FAIL" : r.Skipped() ? "SKIP" : "PASS";
    std::string props, messages;
    for (int i = 0; i < r.test_property_count(); ++i)
        props +=
            fmt::format("{}\"{}\": \"{}\"", i ? ", " : "", json_escape(r.GetTestProperty(i).key()),
                        json_escape(r.GetTestProperty(i).value()));
    for (int i = 0; i < r.total_part_count(); ++i) {
        const auto& p = r.GetTestPartResult(i);
        messages += fmt::format("{}\"{}\"", messages.empty() ? "" : ", ", json_escape(p.message()));
    }
    tests_ += fmt::format(
        "{}\n    {{\"name\": \"{}.{}\", \"outcome\": \"{}\", \"elapsed_ms\": {}, \"properties\": "
        "{{{}}}, "
        "\"messages\": [{}]}}",
        tests_.empty() ? "" : ",", json_escape(info.test_suite_name()), json_escape(info.name()),
        outcome, r.elapsed_time(), props, messages);
}

void JsonReport::set_errata(std::string source, std::span<const ErratumDecision> decisions) {
    std::string list;
    for (const ErratumDecision& d : decisions)
        list += fmt::format(
            "{}\n      {{\"id\": \"{}\", \"by_version\": \"{}\", \"probe\": \"{}\", "
            "\"probe_tries\": {}, \"probe_hits\": {}, \"probe_seconds\": {:.3f}, "
            "\"probe_evidence\": \"{}\", \"present\": {}, \"why\": \"{}\"}}",
            list.empty() ? "" : ",", json_escape(d.erratum->id), version_verdict_name(d.by_version),
            probe_outcome_name(d.probe.outcome), d.probe.tries, d.probe.hits, d.probe.seconds,
            json_escape(d.probe.evidence), d.present ? "true" : "false", json_escape(d.why));
    errata_ =
        fmt::format("{{\"from\": \"{}\", \"errata\": [{}\n    ]}}", json_escape(source), list);
}

std::string JsonReport::text() const {
    utsname u{};
    ::uname(&u);
    std::string splats = splats_off_.empty() ? "{\"on\": true}"
                                             : fmt::format("{{\"on\": false, \"reason\": \"{}\"}}",
                                                           json_escape(splats_off_));
    return fmt::format(
        "{{\n  \"tool\": \"kvmrace\",\n  \"kernel\": \"{}\",\n  \"kernel_version\": \"{}\",\n  "
        "\"machine\": \"{}\",\n"
        "  \"cpu\": \"{}\",\n  \"seed\": {},\n  \"splat_detection\": {},\n  \"errata\": {},\n  "
        "\"tests\": "
        "[{}\n  ]\n}}\n",
        json_escape(u.release), json_escape(u.version), json_escape(u.machine),
        json_escape(cpu_model()), seed_, splats, errata_, tests_);
}

}  // namespace kvmrace
