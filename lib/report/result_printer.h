// GoogleTest listener that prints one line per test (PASS / FAIL with the failure / SKIP with the
// reason) and feeds the Tally. Replaces GoogleTest's default printer.
// Skips whose reason is `folded_skip` (the unusable device, which main() has already said once
// for all KVM tests) are counted but not printed.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "report/tally.h"

namespace kvmrace {

// A test's recorded properties as key/value pairs for people: a race's "hits" and
// "hit_iterations" are shown as one "hits=N/M" (the share of iterations that really raced).
std::vector<std::pair<std::string, std::string>> shown_properties(const testing::TestResult& r);

class ResultPrinter : public testing::EmptyTestEventListener {
public:
    // Colours only when `out` is a terminal.
    explicit ResultPrinter(Tally& tally, std::string folded_skip = {}, std::FILE* out = stdout);

    void OnTestEnd(const testing::TestInfo& info) override;

private:
    std::string paint(const char* word, const char* ansi) const {
        return colour_ ? std::string("\033[") + ansi + "m" + word + "\033[0m" : word;
    }
    Tally& tally_;
    std::string folded_skip_;
    std::FILE* out_;
    bool colour_;
};

}  // namespace kvmrace
