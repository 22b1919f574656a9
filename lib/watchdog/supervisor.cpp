#include "watchdog/supervisor.h"

#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "kvm/kvm_error.h"
#include "kvm/mapping.h"
#include "kvm/unique_fd.h"
#include "watchdog/kernel_log.h"

namespace kvmrace {

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::Pass: return "PASS";
        case Verdict::Fail: return "FAIL";
        case Verdict::Hang: return "HANG";
        case Verdict::Skip: return "SKIP";
    }
    return "?";
}

namespace {

// The racing ioctls check signal_pending(); a handler without SA_RESTART makes them return EINTR.
void on_recovery_signal(int) {}

[[noreturn]] void run_child(const ScenarioBody& body, ProgressBoard& board) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a dead supervisor leaves no scenario behind
    struct sigaction sa {};
    sa.sa_handler = on_recovery_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGUSR1, &sa, nullptr);
    try {
        body(board);
        if (board.verdict() == ChildVerdict::Running) board.finish(ChildVerdict::Pass, "");
    } catch (const std::exception& e) {
        board.finish(ChildVerdict::Fail, e.what());
    } catch (...) {
        board.finish(ChildVerdict::Fail, "unknown exception");
    }
    ::_exit(0);
}

// Waits for the child's pidfd to become readable (it exited) with io_uring, one tick at a time.
class ExitWaiter {
public:
    explicit ExitWaiter(int pidfd) {
        int r = io_uring_queue_init(4, &ring_, 0);
        if (r < 0) throw KvmError("io_uring_queue_init", -r, "");
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        io_uring_prep_poll_add(sqe, pidfd, POLLIN);
        io_uring_submit(&ring_);
    }
    ~ExitWaiter() { io_uring_queue_exit(&ring_); }
    ExitWaiter(const ExitWaiter&) = delete;
    ExitWaiter& operator=(const ExitWaiter&) = delete;

    // True once the child has exited; false when `timeout` passed first.
    bool wait(std::chrono::milliseconds timeout) {
        if (exited_) return true;
        __kernel_timespec ts{};
        ts.tv_sec = timeout.count() / 1000;
        ts.tv_nsec = (timeout.count() % 1000) * 1'000'000;
        io_uring_cqe* cqe = nullptr;
        int r = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
        if (r == 0 && cqe) {
            io_uring_cqe_seen(&ring_, cqe);
            exited_ = true;
        }
        return exited_;
    }

private:
    io_uring ring_{};
    bool exited_ = false;
};

void drain_splats(KernelLog& log, std::vector<std::string>& out) {
    for (auto& line : log.drain())
        if (is_splat(line)) out.push_back(std::move(line));
}

}  // namespace

SupervisedRun supervise(const ScenarioBody& body, const SupervisorOptions& opt) {
    SupervisedRun out;
    Mapping shared =
        Mapping::map(sizeof(ProgressBoard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    auto* board = new (shared.data()) ProgressBoard();
    KernelLog klog;
    const uint64_t start = monotonic_ns();

    pid_t pid = ::fork();
    if (pid < 0) throw KvmError("fork", errno, "");
    if (pid == 0) run_child(body, *board);

    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.valid()) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw KvmError("pidfd_open", errno, fmt::format("pid={}", pid));
    }
    ExitWaiter waiter(pidfd.get());
    bool hung = false;
    uint64_t stuck_since = 0;  // HANG: the last progress, or the start of the stuck call
    while (!waiter.wait(opt.tick)) {
        drain_splats(klog, out.kernel_log);
        if (opt.on_tick) opt.on_tick(*board, double(monotonic_ns() - start) / 1e9);
        uint64_t last = board->last_progress_ns();
        if (last == 0) last = start;  // the child has not reached its first call yet
        const uint64_t now = monotonic_ns();
        const uint64_t timeout_ns = uint64_t(opt.hang_timeout.count()) * 1'000'000;
        // Two ways to be stuck: nobody progresses, or one thread never leaves a call while the
        // others keep looping (e.g. retrying EAGAIN against a deleter that never finishes).
        uint64_t oldest_call = now;
        for (unsigned i = 0; i < board->threads(); ++i) {
            const auto& t = board->thread(i);
            if (t.call.load() != static_cast<uint32_t>(Call::None))
                oldest_call = std::min(oldest_call, t.call_started_ns.load());
        }
        const uint64_t idle = now - last, in_call = now - oldest_call;
        if (idle < timeout_ns && in_call < timeout_ns) continue;

        // HANG: evidence before anything changes it.
        hung = true;
        out.hang_detect_s = double(std::max(idle, in_call)) / 1e9;
        // Measured after the board was read, so it includes this tick's own latency.
        stuck_since = now - std::max(idle, in_call);
        out.hang_detect_latency_s = double(monotonic_ns() - stuck_since) / 1e9;
        out.hang_kind =
            idle >= timeout_ns ? "no progress" : "a thread stuck in one call while others loop";
        out.evidence = collect_evidence(pid, board);
        if (opt.describe_hang) out.hang_context = opt.describe_hang(*board);
        // Recovery: signal the threads stuck in the racing ioctls (KVM checks signal_pending).
        std::vector<std::string> steps;
        uint64_t finished_before = 0;
        for (unsigned i = 0; i < board->threads(); ++i) {
            auto& t = board->thread(i);
            finished_before += t.finished.load();
            auto c = static_cast<Call>(t.call.load());
            if (c == Call::PreFault || c == Call::Run || c == Call::Other) {
                t.signalled.store(1);
                ::syscall(SYS_tgkill, pid, t.tid.load(), SIGUSR1);
                steps.push_back(
                    fmt::format("signalled {} ({}, in {})", t.tid.load(), t.role, call_name(c)));
            }
        }
        if (steps.empty()) steps.push_back("no thread inside a racing ioctl to signal");
        // Did every stuck call return?
        const uint64_t signalled_at = monotonic_ns();
        auto none_in_call = [&] {
            for (unsigned i = 0; i < board->threads(); ++i)
                if (board->thread(i).call.load() != static_cast<uint32_t>(Call::None)) return false;
            return true;
        };
        bool all_out = none_in_call();
        while (!all_out &&
               monotonic_ns() - signalled_at < uint64_t(opt.recovery_bound.count()) * 1'000'000) {
            bool exited = waiter.wait(opt.tick);
            all_out = none_in_call();  // re-read: the child may have finished during the wait
            if (exited) break;
        }
        uint64_t finished_after = 0;
        for (unsigned i = 0; i < board->threads(); ++i)
            finished_after += board->thread(i).finished.load();
        double took = double(monotonic_ns() - signalled_at) / 1e9;
        if (all_out)
            steps.push_back(
                fmt::format("every stuck call returned {:.3f} s later ({} calls finished)", took,
                            finished_after - finished_before));
        else
            steps.push_back(fmt::format("calls still stuck {:.3f} s after the signal", took));
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        const uint64_t killed_at = monotonic_ns();
        if (waiter.wait(opt.kill_bound)) {
            steps.push_back(
                fmt::format("child killed in {:.3f} s", double(monotonic_ns() - killed_at) / 1e9));
            out.recovered = all_out;
        } else {
            out.unkillable = true;
            std::string states;
            for (const auto& t : collect_evidence(pid, board))
                states += fmt::format(" {}:{}", t.tid, t.state);
            steps.push_back(fmt::format(
                "UNKILLABLE: child still alive {} s after SIGKILL (states{}); moving on",
                opt.kill_bound.count() / 1000.0, states));
        }
        for (size_t i = 0; i < steps.size(); ++i) out.recovery += (i ? "; " : "") + steps[i];
        break;
    }
    drain_splats(klog, out.kernel_log);
    if (!out.unkillable) ::waitpid(pid, nullptr, 0);  // reap; the pidfd said it exited

    for (uint32_t c = 0; c < static_cast<uint32_t>(Counter::kCount); ++c)
        out.counters[std::string(counter_name(static_cast<Counter>(c)))] =
            board->counter(static_cast<Counter>(c));
    out.duration_s = double(monotonic_ns() - start) / 1e9;
    out.message = board->message();
    if (hung) {
        out.verdict = Verdict::Hang;
    } else {
        switch (board->verdict()) {
            case ChildVerdict::Pass: out.verdict = Verdict::Pass; break;
            case ChildVerdict::Skip: out.verdict = Verdict::Skip; break;
            case ChildVerdict::Fail: out.verdict = Verdict::Fail; break;
            case ChildVerdict::Running:
                out.verdict = Verdict::Fail;
                out.message = "the scenario's child died without a verdict (crash?)";
                break;
        }
    }
    // A splat fails a race that passed, and one that ran but was not judged (a platform fault
    // of the KVM_RUN races): the kernel's own report is evidence either way.
    const bool ran = board->counter(Counter::Mutations) > 0;
    if (opt.splats_fail && !out.kernel_log.empty() &&
        (out.verdict == Verdict::Pass || (out.verdict == Verdict::Skip && ran))) {
        out.verdict = Verdict::Fail;
        out.message = fmt::format("kernel splat during the scenario: {}", out.kernel_log.front());
    }
    if (hung) out.hang_verdict_latency_s = double(monotonic_ns() - stuck_since) / 1e9;
    board->~ProgressBoard();
    return out;
}

}  // namespace kvmrace
