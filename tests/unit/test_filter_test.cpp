#include <gtest/gtest.h>

#include "cli/test_filter.h"

namespace kvmrace {
namespace {

TEST(UnitTestFilter, Globs) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("Kvm*", "KvmMemslot.Add"));
    EXPECT_TRUE(glob_match("*.Add", "KvmMemslot.Add"));
    EXPECT_TRUE(glob_match("Kvm?emslot.*", "KvmMemslot.Add"));
    EXPECT_TRUE(glob_match("*slot*Add*", "KvmMemslot.DoAdd"));
    EXPECT_FALSE(glob_match("Kvm", "KvmMemslot"));
    EXPECT_FALSE(glob_match("*.Add", "KvmMemslot.Added"));
    EXPECT_FALSE(glob_match("?", ""));
}

TEST(UnitTestFilter, PositiveAndNegativeLists) {
    EXPECT_TRUE(filter_matches("*-Unit*", "KvmGuest.X"));
    EXPECT_FALSE(filter_matches("*-Unit*", "UnitOptions.X"));
    EXPECT_TRUE(filter_matches("A*:B*", "Beta.X"));
    EXPECT_FALSE(filter_matches("A*:B*", "Gamma.X"));
    EXPECT_FALSE(filter_matches("Kvm*-KvmRun*:Unit*", "KvmRunVsMemslot.X"));
    EXPECT_TRUE(filter_matches("-Unit*", "KvmGuest.X")) << "empty positive list means all";
}

}  // namespace
}  // namespace kvmrace
