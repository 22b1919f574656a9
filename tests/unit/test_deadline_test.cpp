// The deadline must end a run whose test never returns (a deliberately stuck test body).
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "report/test_deadline.h"

namespace kvmrace {
namespace {

[[noreturn]] void block_forever() {
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock lock(m);
    for (;;) cv.wait(lock);
}

TEST(UnitTestDeadlineDeathTest, StuckTestEndsTheRunWithItsName) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            Tally tally;
            tally.add(Outcome::Pass);
            TestDeadline deadline(std::chrono::seconds(1), tally, STDERR_FILENO);
            deadline.OnTestStart(*testing::UnitTest::GetInstance()->current_test_info());
            block_forever();
        },
        testing::ExitedWithCode(1),
        "FAIL  UnitTestDeadlineDeathTest.StuckTestEndsTheRunWithItsName: still running after 1 s "
        "\\(hung in KVM\\?\\); aborting the run\n1 passed, 1 failed, 0 skipped");
}

TEST(UnitTestDeadline, FinishedTestsDoNotTrip) {
    Tally tally;
    TestDeadline deadline(std::chrono::seconds(1), tally);
    const testing::TestInfo& info = *testing::UnitTest::GetInstance()->current_test_info();
    for (int i = 0; i < 100; ++i) {
        deadline.OnTestStart(info);
        deadline.OnTestEnd(info);
    }
    SUCCEED();
}

}  // namespace
}  // namespace kvmrace
