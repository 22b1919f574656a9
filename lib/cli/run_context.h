// What every test may consult about this run: the options and whether the device opened.
#pragma once

#include <cstdint>
#include <string>

#include "cli/options.h"
#include "kernel/errata.h"
#include "kernel/errata_decision.h"
#include "kvm/errno_result.h"

namespace kvmrace {

struct RunContext {
    Options options;
    Errno device_status;  // errno of opening options.device, 0 if it opened
    uint64_t seed = 0;    // options.seed or one drawn from the clock
    // Which known bugs this run treats the kernel as having (--errata-from), and how each was
    // decided (the --errata table, the JSON record).
    ErrataPresence errata;
    std::vector<ErratumDecision> errata_decisions;

    // Iterations for a race loop: --iterations if given, else the quick or full default.
    uint64_t iterations(uint64_t quick_default, uint64_t full_default) const {
        if (options.iterations) return *options.iterations;
        return options.quick ? quick_default : full_default;
    }
    // "/dev/kvm: No such file or directory" style reason when the device is unusable.
    std::string device_skip_reason() const;
};

const RunContext& run_context();
void set_run_context(RunContext ctx);

}  // namespace kvmrace
