// `--junit FILE`: JUnit XML for CI systems (one testsuite per GoogleTest suite), made from the
// finished run; main() writes it to the file.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace kvmrace {

std::string xml_escape(std::string_view s);

std::string junit_xml(const testing::UnitTest& unit);

}  // namespace kvmrace
