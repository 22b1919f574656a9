// Last line of defence until every race runs under the supervisor: if one test runs longer than
// its deadline (KVM or the test wedged), say which test, print the tally so far and exit 1, so
// `make check` can never hang the machine that runs it. A SIGALRM timer, not a thread: scenario
// children are forked from this process, and forking a multi-threaded process is what the
// design avoids (and what TSan cannot follow).
#pragma once

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>

#include "report/tally.h"

namespace kvmrace {

class TestDeadline : public testing::EmptyTestEventListener {
public:
    // Owns SIGALRM and ITIMER_REAL while it lives; restores the previous handler after.
    TestDeadline(std::chrono::seconds limit, const Tally& tally, int out_fd = 1);
    ~TestDeadline() override;

    void OnTestStart(const testing::TestInfo& info) override;
    void OnTestEnd(const testing::TestInfo& info) override;

private:
    const std::chrono::seconds limit_;
    const Tally& tally_;
    int previous_fd_;
    struct sigaction previous_ {};  // restored on destruction (tests nest a second instance)
};

}  // namespace kvmrace
