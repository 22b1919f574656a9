// `--json FILE`: the run's full record (kernel, CPU, seed, whether kernel splats were watched,
// every test with its outcome, counters, timings and messages, HANG evidence included), collected
// while the run goes; main() writes text() to the file when it ends.
#pragma once

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <string_view>

#include "kernel/errata_decision.h"

namespace kvmrace {

std::string json_escape(std::string_view s);

class JsonReport : public testing::EmptyTestEventListener {
public:
    // `splats_off`: why /dev/kmsg cannot be read (splat detection off), empty when it can.
    JsonReport(uint64_t seed, std::string splats_off)
        : seed_(seed), splats_off_(std::move(splats_off)) {}
    void OnTestEnd(const testing::TestInfo& info) override;
    // The run's errata decisions (--errata-from): per erratum the version verdict, the probe
    // verdict with its tries and evidence, and what the run acted on.
    void set_errata(std::string source, std::span<const ErratumDecision> decisions);
    // The document for what has been recorded so far.
    std::string text() const;

private:
    uint64_t seed_;
    std::string splats_off_;
    std::string tests_;  // comma-separated JSON objects
    std::string errata_ = "null";
};

}  // namespace kvmrace
