// `--ktap`: KTAP version 1 on stdout, one result line per test (a flaky scenario cannot hide the
// others), "# SKIP reason" on skips, and every failure or HANG evidence line as a "# " diagnostic
// before its result, so the kselftest runner and KernelCI can read a run.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace kvmrace {

class KtapReport : public testing::EmptyTestEventListener {
public:
    KtapReport(int planned, std::FILE* out = stdout);
    void OnTestEnd(const testing::TestInfo& info) override;

private:
    std::FILE* out_;
    int number_ = 0;
};

// KTAP test names may not contain '#' and should not contain whitespace.
std::string ktap_name(std::string_view name);

}  // namespace kvmrace
