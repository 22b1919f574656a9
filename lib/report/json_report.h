// `--json FILE`: the run's full record (kernel, CPU, seed, every test with its outcome, counters,
// timings and messages, HANG evidence included) written when the run ends.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace kvmrace {

std::string json_escape(std::string_view s);

class JsonReport : public testing::EmptyTestEventListener {
public:
    JsonReport(std::string path, uint64_t seed) : path_(std::move(path)), seed_(seed) {}
    void OnTestEnd(const testing::TestInfo& info) override;
    void OnTestProgramEnd(const testing::UnitTest& unit) override;
    // Writes what has been recorded so far (also used when a run is aborted).
    bool write() const;

private:
    std::string path_;
    uint64_t seed_;
    std::string tests_;  // comma-separated JSON objects
};

}  // namespace kvmrace
