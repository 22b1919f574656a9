// What every thread of a stuck process is doing, read from /proc before recovery: state, wchan,
// kernel stack, current syscall, plus which ioctl the progress board says it is in and for how
// long.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "watchdog/progress_board.h"

namespace kvmrace {

struct ThreadEvidence {
    pid_t tid = 0;
    std::string comm;
    std::string role;  // from the board, "" if the thread never joined it
    char state = '?';  // R S D T Z ...
    std::string wchan;
    std::string syscall;             // /proc/.../syscall first field(s)
    std::vector<std::string> stack;  // kernel stack frames (root only)
    std::string in_call;             // board: ioctl the thread is in ("-" when none)
    double in_call_s = 0;            // board: for how long
};

std::vector<ThreadEvidence> collect_evidence(pid_t pid, const ProgressBoard* board);
// Multi-line text, one block per thread, for verdicts and reports.
std::string format_evidence(const std::vector<ThreadEvidence>& threads);
// A thread's state from /proc/PID/task/TID/stat ('?' if gone).
char task_state(pid_t pid, pid_t tid);

}  // namespace kvmrace
