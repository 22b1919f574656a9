// The populate contract (KVM_SEV_SNP_LAUNCH_UPDATE / KVM_TDX_INIT_MEM_REGION during a race) and
// the version gate for seed 004's aligned-source rule.
#include <gtest/gtest.h>

#include "kernel/behaviour_changes.h"
#include "race/populate_contract.h"

namespace kvmrace {
namespace {

constexpr uint64_t kPage = 4096;
constexpr PopulateWindow kQuiet{false, false, false};
constexpr PopulateWindow kDeleting{true, false, false};
constexpr PopulateWindow kPunching{false, true, false};

PopulateCall call(uint64_t consumed_pages, int err, uint64_t pages = 16) {
    const uint64_t gpa = 1ull << 30, src = 0x7f0000000000, bytes = pages * kPage;
    const uint64_t c = consumed_pages * kPage;
    return PopulateCall{gpa, src, bytes, gpa + c, src + c, bytes - c, Errno{err}, 0};
}

TEST(UnitPopulateContract, SuccessRules) {
    EXPECT_EQ(check_populate_call(PopulateKind::Snp, call(16, 0), kQuiet), "");
    EXPECT_EQ(check_populate_call(PopulateKind::Snp, call(3, 0), kQuiet), "");  // partial ok
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, 0), kQuiet), "");  // no progress
    EXPECT_EQ(check_populate_call(PopulateKind::Tdx, call(16, 0), kQuiet), "");
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, call(3, 0), kQuiet), "");
}

TEST(UnitPopulateContract, FieldsMoveTogether) {
    PopulateCall c = call(4, 0);
    c.src_after += kPage;
    EXPECT_NE(check_populate_call(PopulateKind::Snp, c, kQuiet).find("did not advance"),
              std::string::npos);
    c = call(4, 0);
    c.bytes_after -= 8;
    c.gpa_after += 8;
    c.src_after += 8;
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, c, kQuiet).find("partial page"),
              std::string::npos);
    c = call(0, 0);
    c.bytes_after += kPage;
    EXPECT_NE(check_populate_call(PopulateKind::Snp, c, kQuiet).find("grew"), std::string::npos);
}

TEST(UnitPopulateContract, ErrnoNeedsAMatchingWindow) {
    // No slot at the GFN: only while the slot is being deleted.
    EXPECT_EQ(check_populate_call(PopulateKind::Snp, call(0, EINVAL), kDeleting), "");
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, EINVAL), kPunching), "");
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, call(0, EINVAL), kQuiet), "");
    // Delete and PUNCH_HOLE are serialized against the populate: no failure but the missing
    // slot. SNP turns a signal (like any populate failure) into EIO; TDX answers EINTR.
    const PopulateWindow signalled{false, false, true};
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, EIO), kPunching), "");
    EXPECT_EQ(check_populate_call(PopulateKind::Snp, call(0, EIO), signalled), "");
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, EINTR), signalled), "");
    EXPECT_EQ(check_populate_call(PopulateKind::Tdx, call(0, EINTR), signalled), "");
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, call(0, EINTR), kDeleting), "");
    // A failed TDH.MEM.PAGE.ADD (EIO) is a bug whatever overlapped; SNP never reports progress
    // on failure.
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, call(5, EIO), kDeleting), "");
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(5, EIO), kDeleting), "");
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, ENOMEM), kPunching), "");
    // EEXIST (populating a prepared page) never: the range is reset between iterations.
    EXPECT_NE(check_populate_call(PopulateKind::Tdx, call(0, EEXIST), kDeleting), "");
    EXPECT_NE(check_populate_call(PopulateKind::Snp, call(0, EPERM), kDeleting)
                  .find("outside the documented set"),
              std::string::npos);
}

TEST(UnitBehaviourChanges, SeedReworkIsGatedByVersion) {
    // In no release kvmrace knows yet: both outcomes are accepted (and recorded).
    EXPECT_EQ(kernel_has("gmem-populate-aligned-source", KernelVersion{6, 18, 2}),
              Presence::Unknown);
    EXPECT_THROW(kernel_has("no-such-change", KernelVersion{6, 18, 2}), std::logic_error);
    for (const BehaviourChange& c : behaviour_changes()) {
        EXPECT_FALSE(c.title.empty()) << c.id;
        EXPECT_FALSE(c.effect.empty()) << c.id;
        if (c.since != KernelVersion{}) {
            EXPECT_EQ(kernel_has(c.id, c.since), Presence::Yes);
            EXPECT_EQ(kernel_has(c.id, KernelVersion{c.since.major, c.since.minor - 1, 0}),
                      Presence::No);
        }
    }
}

}  // namespace
}  // namespace kvmrace
