// The per-call contract of KVM_PRE_FAULT_MEMORY as a table: one row per rule, kept and broken.
#include <gtest/gtest.h>

#include <cerrno>

#include "race/prefault_contract.h"

namespace kvmrace {
namespace {

constexpr uint64_t G = 0x40000000, S = 0x400000;

PrefaultResult ok(uint64_t mapped) { return {G, S, G + mapped, S - mapped, 0, {}}; }
PrefaultResult err(int e) { return {G, S, G, S, -1, Errno{e}}; }

struct Row {
    const char* name;
    PrefaultResult r;
    CallWindow w;
    const char* broken;  // "" if the call keeps the contract, else the start of the complaint
};

constexpr CallWindow kQuiet{false, false, false};
constexpr CallWindow kDeleting{true, true, false};
constexpr CallWindow kMovingCovered{true, false, false};
constexpr CallWindow kSignalled{false, false, true};
constexpr CallWindow kPrivateDeleting{true, true, false, true};

class UnitPrefaultContract : public testing::TestWithParam<Row> {};

TEST_P(UnitPrefaultContract, Row) {
    const Row& row = GetParam();
    std::string got = check_prefault_call(row.r, row.w);
    if (*row.broken == 0)
        EXPECT_EQ(got, "");
    else
        EXPECT_EQ(got.rfind(row.broken, 0), 0u) << got;
}

INSTANTIATE_TEST_SUITE_P(
    , UnitPrefaultContract,
    testing::Values(
        Row{"ProgressIsFine", ok(0x1000), kQuiet, ""}, Row{"WholeRangeIsFine", ok(S), kQuiet, ""},
        Row{"SuccessWithoutProgress", ok(0), kQuiet, "(size shrank) XOR (ret < 0) broken"},
        Row{"ErrorWithProgress",
            {G, S, G + 0x1000, S - 0x1000, -1, Errno{EAGAIN}},
            kDeleting,
            "(size shrank) XOR (ret < 0) broken"},
        Row{"GpaAdvancedWrong",
            {G, S, G + 0x2000, S - 0x1000, 0, {}},
            kQuiet,
            "gpa did not advance"},
        Row{"EagainWhileDeleting", err(EAGAIN), kDeleting, ""},
        Row{"EagainWhileMovingCovered", err(EAGAIN), kMovingCovered, ""},
        Row{"EagainWithNothingInFlight", err(EAGAIN), kQuiet, "EAGAIN with no delete/move"},
        Row{"EnoentWhileDeleting", err(ENOENT), kDeleting, ""},
        Row{"EnoentWhileCoveredMove", err(ENOENT), kMovingCovered, "ENOENT while a slot covered"},
        Row{"EnoentWithNothingInFlight", err(ENOENT), kQuiet, "ENOENT while a slot covered"},
        Row{"EintrWhenSignalled", err(EINTR), kSignalled, ""},
        Row{"EintrUnsignalled", err(EINTR), kDeleting, "EINTR without a signal"},
        Row{"EfaultPrivateWhileDeleting", err(EFAULT), kPrivateDeleting, ""},
        Row{"EfaultShared", err(EFAULT), kDeleting, "EFAULT for a valid, backed range"},
        Row{"EnoentPrivate", err(ENOENT), kPrivateDeleting, "ENOENT for a private GPA"},
        Row{"EinvalDuringRace", err(EINVAL), kDeleting, "documented but unexpected errno"},
        Row{"UndocumentedErrno", err(EBUSY), kDeleting, "errno outside the documented set"}),
    [](const testing::TestParamInfo<Row>& p) { return std::string(p.param.name); });

TEST(UnitWindowProbe, OverlapFromClockReadings) {
    OperationClock c;
    WindowProbe before_anything(c);
    EXPECT_FALSE(before_anything.overlapped());
    c.start();  // an operation starts during the call
    EXPECT_TRUE(before_anything.overlapped());
    WindowProbe during(c);
    EXPECT_TRUE(during.overlapped()) << "started before the call, not finished when it began";
    c.finish();
    WindowProbe after(c);
    EXPECT_FALSE(after.overlapped()) << "finished before the call began";
}

}  // namespace
}  // namespace kvmrace

namespace kvmrace::test {
namespace {

PrefaultResult result(int ret, int err) { return {0, 0, 0, 0, ret, Errno{err}}; }

TEST(UnitPrefaultOutcome, CounterPerErrno) {
    EXPECT_EQ(prefault_outcome(result(0, 0)), Counter::PrefaultOk);
    EXPECT_EQ(prefault_outcome(result(-1, EAGAIN)), Counter::PrefaultEagain);
    EXPECT_EQ(prefault_outcome(result(-1, ENOENT)), Counter::PrefaultEnoent);
    EXPECT_EQ(prefault_outcome(result(-1, EFAULT)), Counter::PrefaultEnoent);
    EXPECT_EQ(prefault_outcome(result(-1, EINTR)), Counter::PrefaultEintr);
    EXPECT_EQ(prefault_outcome(result(-1, EIO)), Counter::PrefaultOther);
}

TEST(UnitPrefaultOutcome, EagainIsRequiredFrom618Only) {
    EXPECT_EQ(eagain_never_seen(0, 200, {6, 17, 0}), "");
    EXPECT_EQ(eagain_never_seen(3, 200, {6, 18, 2}), "");
    EXPECT_NE(eagain_never_seen(0, 200, {6, 18, 2}).find("0 EAGAIN in 200 iterations on 6.18.2"),
              std::string::npos);
}

}  // namespace
}  // namespace kvmrace::test
