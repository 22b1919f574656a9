#include "explore/finding.h"

#include <cctype>

#include <fmt/format.h>

namespace kvmrace {

std::string frame_function(const std::string& frame) {
    std::string f = frame;
    if (auto close = f.find("] "); f.rfind("[<", 0) == 0 && close != std::string::npos)
        f = f.substr(close + 2);
    while (!f.empty() && f.front() == ' ') f.erase(0, 1);
    if (f.rfind("0x", 0) == 0 || f.empty()) return "";  // an address: no kallsyms
    return f.substr(0, f.find('+'));
}

std::string mask_numbers(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        // A number on its own, not a digit inside a name (KVM_SET_USER_MEMORY_REGION2).
        const bool in_name =
            i > 0 && (std::isalpha(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_');
        if (!in_name && std::isdigit(static_cast<unsigned char>(text[i]))) {
            size_t j = i;
            if (text.compare(i, 2, "0x") == 0) j += 2;
            while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
            out += 'N';
            i = j;
        } else {
            out += text[i++];
        }
    }
    return out;
}

Finding finding_of(const Scenario& s, const SupervisedRun& r, const KernelVersion& k,
                   const ErrataPresence& present) {
    Finding f;
    if (r.verdict == Verdict::Pass || r.verdict == Verdict::Skip) return f;
    const auto bugs = errata_for(race_facts(s), k, present);
    if (!bugs.empty()) {
        f.erratum = std::string(bugs.front()->id);
        f.signature = fmt::format("{} known:{}", verdict_name(r.verdict), f.erratum);
        return f;
    }
    if (r.verdict == Verdict::Hang) {
        std::string frames;
        for (const ThreadEvidence& t : r.evidence) {
            if (t.in_call.empty() || t.in_call == "-") continue;
            std::string top;
            for (size_t i = 0, n = 0; i < t.stack.size() && n < 3; ++i)
                if (std::string fn = frame_function(t.stack[i]); !fn.empty())
                    top += (n++ ? "<-" : "") + fn;
            if (top.empty()) top = t.wchan.empty() ? std::string(1, t.state) : t.wchan;
            frames += fmt::format("{}{}:{}", frames.empty() ? "" : " ", t.in_call, top);
        }
        f.signature = fmt::format("HANG {}", frames.empty() ? r.hang_kind : frames);
        return f;
    }
    // A FAIL: the contract clause is the message before its first ": " (the call's details
    // follow it), numbers masked so that one clause is one signature.
    std::string clause = r.message.substr(0, r.message.find(": "));
    clause = clause.substr(0, clause.find('\n'));
    f.signature = "FAIL " + mask_numbers(clause);
    return f;
}

}  // namespace kvmrace
