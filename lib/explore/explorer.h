// kvmrace --explore: samples points of the race space by seed for a time budget, runs each
// supervised like a catalog row, keeps every non-PASS signature once in a corpus (with a replay
// command and a shrunk spec), recognises known errata, and ends with a table of signatures.
// kvmrace --scenario-spec SPEC: runs one point (a replay).
#pragma once

#include <cstdint>
#include <string>

#include "explore/race_space.h"
#include "kernel/errata.h"

namespace kvmrace {

struct ExploreSettings {
    std::string device = "/dev/kvm";
    double budget_s = 1800;
    std::string corpus_dir = "kvmrace-corpus";
    uint64_t seed = 1;
    double hang_timeout_s = 2.0;
    ErrataPresence errata;
    // Per point: the catalog's quick iterations, and at most this long.
    uint64_t prefault_iterations = 200, run_iterations = 1000;
    double point_duration_s = 10;
};

// Exit status: 0 nothing new, 1 a new signature, 2 corpus unusable, 4 no runnable point,
// 6 a livelock no signal freed (wedged), 130 interrupted (the corpus keeps what was found).
int explore(const ExploreSettings& settings);
// Exit status as a test's: 0 PASS, 1 FAIL/HANG, 4 SKIP, 6 wedged.
int replay_point(const RacePoint& p, const ExploreSettings& settings);

}  // namespace kvmrace
