#include <gtest/gtest.h>

#include "report/tally.h"

namespace kvmrace {
namespace {

Tally tally(int pass, int fail, int skip) {
    Tally t;
    for (int i = 0; i < pass; ++i) t.add(Outcome::Pass);
    for (int i = 0; i < fail; ++i) t.add(Outcome::Fail);
    for (int i = 0; i < skip; ++i) t.add(Outcome::Skip);
    return t;
}

TEST(UnitTally, SummaryLine) {
    EXPECT_EQ(tally(3, 1, 2).summary(), "3 passed, 1 failed, 2 skipped");
}

TEST(UnitTally, KselftestExitCodes) {
    EXPECT_EQ(tally(5, 0, 0).exit_code(), 0);
    EXPECT_EQ(tally(5, 0, 3).exit_code(), 0) << "skips beside passes are fine";
    EXPECT_EQ(tally(5, 1, 3).exit_code(), 1);
    EXPECT_EQ(tally(0, 1, 3).exit_code(), 1);
    EXPECT_EQ(tally(0, 0, 3).exit_code(), 4) << "everything skipped";
    EXPECT_EQ(tally(0, 0, 0).exit_code(), 4) << "nothing ran";
}

}  // namespace
}  // namespace kvmrace
