#include "report/test_deadline.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace kvmrace {

TestDeadline::TestDeadline(std::chrono::seconds limit, const Tally& tally, int out_fd)
    : limit_(limit), tally_(tally), out_fd_(out_fd), watcher_([this] { watch(); }) {}

TestDeadline::~TestDeadline() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    watcher_.join();
}

void TestDeadline::OnTestStart(const testing::TestInfo& info) {
    {
        std::lock_guard lock(mu_);
        current_ = fmt::format("{}.{}", info.test_suite_name(), info.name());
        deadline_ = std::chrono::steady_clock::now() + limit_;
    }
    cv_.notify_all();
}

void TestDeadline::OnTestEnd(const testing::TestInfo&) {
    std::lock_guard lock(mu_);
    current_.clear();
}

void TestDeadline::watch() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        if (current_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto deadline = deadline_;
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && !current_.empty() &&
            deadline_ == deadline) {
            // Threads of the test may be stuck in the kernel: no unwinding, just report and go.
            Tally t = tally_;
            t.add(Outcome::Fail);
            std::string msg = fmt::format(
                "FAIL  {}: still running after {} s (hung in KVM?); aborting the run\n{}\n",
                current_, limit_.count(), t.summary());
            (void)!::write(out_fd_, msg.data(), msg.size());
            ::_exit(Tally::kExitFail);
        }
    }
}

}  // namespace kvmrace
