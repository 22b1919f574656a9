// How a scenario is run: iterations, time bound, seed, jitter, pinning.
#pragma once

#include <cstdint>
#include <string>

#include "race/scenario.h"
#include "watchdog/progress_board.h"

namespace kvmrace {

struct RaceConfig {
    std::string device = "/dev/kvm";
    uint64_t iterations = 1000;
    double duration_s = 0;  // > 0: also stop once this much time has passed
    uint64_t seed = 1;
    unsigned jitter_us = 0;  // > 0: blind jitter of 0..N us instead of aim (race/aim.h)
    bool pin = true;
};

// Runs one scenario in the calling (child) process, publishing progress and counters on the
// board. Throws on a contract violation or lost data; finishes the board with Skip (and a reason
// naming the capability, errno or version) when this kernel cannot run it.
void run_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board);

// Shared by the drivers: the common skip checks for a scenario on this system; "" if runnable.
class System;
std::string scenario_skip_reason(const Scenario& s, const System& sys);

void run_prefault_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board);
void run_kvm_run_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board);
void run_irq_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board);

}  // namespace kvmrace
