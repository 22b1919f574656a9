// Last line of defence until every race runs under the supervisor: if one test runs longer than
// its deadline (KVM or the test wedged), say which test, print the tally so far and exit 1, so
// `make check` can never hang the machine that runs it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "report/tally.h"

namespace kvmrace {

class TestDeadline : public testing::EmptyTestEventListener {
public:
    TestDeadline(std::chrono::seconds limit, const Tally& tally, int out_fd = 1);
    ~TestDeadline() override;

    void OnTestStart(const testing::TestInfo& info) override;
    void OnTestEnd(const testing::TestInfo& info) override;

private:
    void watch();

    const std::chrono::seconds limit_;
    const Tally& tally_;
    const int out_fd_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::string current_;  // empty: no test running
    std::chrono::steady_clock::time_point deadline_;
    bool stop_ = false;
    std::thread watcher_;
};

}  // namespace kvmrace
