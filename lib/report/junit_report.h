// `--junit FILE`: JUnit XML for CI systems (one testsuite per GoogleTest suite), written at the
// end.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace kvmrace {

std::string xml_escape(std::string_view s);

class JunitReport : public testing::EmptyTestEventListener {
public:
    explicit JunitReport(std::string path) : path_(std::move(path)) {}
    void OnTestProgramEnd(const testing::UnitTest& unit) override;

private:
    std::string path_;
};

}  // namespace kvmrace
