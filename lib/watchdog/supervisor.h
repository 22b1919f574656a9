// Runs a scenario body in a forked child and watches it: progress on the shared board, the
// child's exit through a pidfd (waited on with io_uring), and the kernel log. No progress for the
// hang timeout, or one thread inside a single call for that long, is a HANG: evidence first, then
// recovery (signal the threads stuck in the racing ioctl, confirm the others get out, kill the
// child, bounded), then the verdict.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "watchdog/evidence.h"
#include "watchdog/progress_board.h"

namespace kvmrace {

enum class Verdict { Pass, Fail, Hang, Skip };
std::string_view verdict_name(Verdict v);

struct SupervisorOptions {
    std::chrono::milliseconds hang_timeout{2000};
    std::chrono::milliseconds recovery_bound{3000};  // after signalling, for the others to move
    std::chrono::milliseconds kill_bound{5000};      // after SIGKILL, for the child to exit
    std::chrono::milliseconds tick{20};
    bool splats_fail = true;  // a kernel splat during the scenario makes it FAIL
    // Called every tick with the child's board and the seconds elapsed (live progress display).
    std::function<void(const ProgressBoard&, double)> on_tick;
    // Called once on a HANG, before recovery, to explain the board's state (in-flight calls
    // against the memory layout); its text lands in SupervisedRun::hang_context.
    std::function<std::string(const ProgressBoard&)> describe_hang;
};

struct SupervisedRun {
    Verdict verdict = Verdict::Fail;
    std::string message;  // child's message, or what went wrong
    std::map<std::string, uint64_t> counters;
    std::vector<ThreadEvidence> evidence;  // HANG only
    double hang_detect_s = 0;              // how long it was stuck when HANG was declared
    // Detection latency: from the last progress (or the stuck call's start) to HANG declared,
    // and to the verdict (evidence and recovery done, child gone).
    double hang_detect_latency_s = 0;
    double hang_verdict_latency_s = 0;
    std::string hang_kind;                // "no progress" or "a thread stuck in one call ..."
    std::string hang_context;             // SupervisorOptions::describe_hang's text
    std::string recovery;                 // how recovery went (HANG only)
    bool recovered = false;               // the stuck calls returned and the child exited
    bool unkillable = false;              // child still alive after SIGKILL + kill_bound
    std::vector<std::string> kernel_log;  // splat lines seen during the run
    double duration_s = 0;
};

using ScenarioBody = std::function<void(ProgressBoard&)>;

// Forks, runs `body` in the child (exceptions become FAIL) and supervises it.
SupervisedRun supervise(const ScenarioBody& body, const SupervisorOptions& options);

}  // namespace kvmrace
