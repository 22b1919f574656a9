// GoogleTest listener that prints one line per test (PASS / FAIL with the failure / SKIP with the
// reason) and feeds the Tally. Replaces GoogleTest's default printer.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

#include "report/tally.h"

namespace kvmrace {

class ResultPrinter : public testing::EmptyTestEventListener {
public:
    explicit ResultPrinter(Tally& tally, std::FILE* out = stdout) : tally_(tally), out_(out) {}

    void OnTestEnd(const testing::TestInfo& info) override;

private:
    Tally& tally_;
    std::FILE* out_;
};

}  // namespace kvmrace
