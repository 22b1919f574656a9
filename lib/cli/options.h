// Command line of kvmrace. Parsing is pure (no I/O) so it is unit-tested; main() prints errors.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/errata_decision.h"

namespace kvmrace {

enum class Selection { Kvm, Unit, All };

struct Options {
    bool help = false;
    bool version = false;
    bool caps = false;
    bool list = false;
    bool errata = false;         // --errata: print the errata table and exit
    bool force = false;          // run scenarios a known bug of this kernel would livelock
    bool expect_errata = false;  // a known bug's HANG/FAIL is expected (XFAIL): for vm-run checks
    std::vector<std::string>
        assume_fixed;  // errata this kernel carries a fix for (backport, patch)
    ErrataSource errata_from = ErrataSource::Probe;  // --errata-from: who decides the errata
    bool quick = false;
    Selection selection = Selection::Kvm;
    int verbosity = 0;  // -q: -1, -v: +1 per v
    std::string filter = "*";
    std::string device = "/dev/kvm";
    std::string json_path;   // --json FILE
    std::string junit_path;  // --junit FILE
    bool ktap = false;       // --ktap: KTAP on stdout instead of the table
    std::optional<uint64_t> iterations;
    std::optional<uint64_t> seed;
    uint64_t seeds = 1;  // --seeds N: race scenarios run at seed, seed+1, ..., seed+N-1
    uint64_t test_timeout_s = 300;  // a test running longer fails the run (see TestDeadline)
    double hang_timeout_s = 2.0;    // race scenarios: no progress this long is a HANG
    double duration_s = 0;   // race scenarios: also stop after this long (0: iterations only)
    unsigned jitter_us = 0;  // race scenarios: > 0: blind random start offsets, not aim
    bool pin = true;         // race scenarios: pin racing threads to distinct CPUs
    std::vector<std::string> gtest_args;        // --gtest_* passed through untouched
    bool explore = false;                       // --explore: sample the race space for --budget
    double budget_s = 1800;                     // --budget 30m
    std::string corpus_dir = "kvmrace-corpus";  // --corpus DIR
    std::string scenario_spec;  // --scenario-spec 'axis=value,...': run that one point
};

struct ParseResult {
    Options options;
    std::string error;  // non-empty: one line for the user, exit 2
};

ParseResult parse_options(std::span<const std::string_view> args);
std::string usage_text();

// The GoogleTest filter for a selection plus the user's --filter.
std::string gtest_filter(const Options& o);

}  // namespace kvmrace
