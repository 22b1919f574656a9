#include "report/test_deadline.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

namespace {

// Written before the timer is armed, read only by the handler: async-signal-safe by design.
char g_message[1024];
size_t g_message_len;
int g_out_fd = 1;

void on_deadline(int) {
    // The test's threads may be stuck in the kernel: no unwinding, just report and go.
    (void)!::write(g_out_fd, g_message, g_message_len);
    ::_exit(kExitFail);
}

void arm(std::chrono::seconds s) {
    itimerval t{};
    t.it_value.tv_sec = static_cast<time_t>(s.count());
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

}  // namespace

TestDeadline::TestDeadline(std::chrono::seconds limit, const Tally& tally, int out_fd)
    : limit_(limit), tally_(tally), previous_fd_(g_out_fd) {
    g_out_fd = out_fd;
    struct sigaction sa {};
    sa.sa_handler = on_deadline;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &previous_);
}

TestDeadline::~TestDeadline() {
    arm(std::chrono::seconds(0));
    ::sigaction(SIGALRM, &previous_, nullptr);
    g_out_fd = previous_fd_;
}

void TestDeadline::OnTestStart(const testing::TestInfo& info) {
    Tally t = tally_;
    t.add(Outcome::Fail);
    std::string msg =
        fmt::format("FAIL  {}.{}: still running after {} s (hung in KVM?); aborting the run\n{}\n",
                    info.test_suite_name(), info.name(), limit_.count(), t.summary());
    g_message_len = std::min(msg.size(), sizeof g_message);
    std::memcpy(g_message, msg.data(), g_message_len);
    arm(limit_);
}

void TestDeadline::OnTestEnd(const testing::TestInfo&) { arm(std::chrono::seconds(0)); }

}  // namespace kvmrace
