// Dirty logging is exact: after the guest writes a known set of pages, KVM_GET_DIRTY_LOG reports
// exactly those pages, no more and no fewer; with MANUAL_PROTECT2 they stay set until cleared.
#include <bit>

#include "guest/guest_vm.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kPages = 64;  // one bitmap word
constexpr uint64_t kSlotBytes = kPages * abi::kPageSize;
constexpr uint32_t kSlot = 1;

using payload::memory::kTouchPages;

class KvmDirtyLog : public KvmTest {
protected:
    // Guest writes one word in each page whose bit is set in `mask`.
    void touch(GuestVm& g, uint64_t mask) {
        g.start(0, {kTouchPages, abi::kDataBase, 0, mask});
        ASSERT_EQ(g.run_to_done(), uint64_t(std::popcount(mask)));
    }
    static std::string hex(uint64_t v) { return fmt::format("{:#018x}", v); }
};

TEST_F(KvmDirtyLog, ReportsExactlyThePagesTheGuestWrote) {
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    g.add_slot({kSlot, abi::kDataBase, kSlotBytes, uapi::kMemLogDirtyPages});
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(0)) << "nothing written yet";
    const uint64_t first =
        0x8000'0000'0000'0421ull | (run_context().seed & 0x00ff'ff00'0000'0000ull);
    touch(g, first);
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(first));
    // KVM_GET_DIRTY_LOG (without manual protect) resets the log: the next read is the next round.
    const uint64_t second = 0x0000'0000'f000'000aull;
    touch(g, second);
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(second));
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(0));
}

TEST_F(KvmDirtyLog, ManualProtectKeepsBitsUntilCleared) {
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    int caps = system().check_extension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
    if (!(caps & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
        GTEST_SKIP() << capability_reason(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, caps);
    g.vm().enable_cap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    g.add_slot({kSlot, abi::kDataBase, kSlotBytes, uapi::kMemLogDirtyPages});
    const uint64_t mask = 0x0f0f'0000'0000'1003ull;
    touch(g, mask);
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(mask));
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(mask)) << "not cleared by a read";
    std::vector<uint64_t> clear{0x0000'0000'0000'1003ull};
    g.vm().clear_dirty_log(kSlot, 0, kPages, clear);
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex(mask & ~clear[0]));
    // Cleared pages are write-protected again: writing them sets their bits once more.
    touch(g, 0x3);
    EXPECT_EQ(hex(g.vm().get_dirty_log(kSlot, kPages).at(0)), hex((mask & ~clear[0]) | 0x3));
}

}  // namespace
}  // namespace kvmrace::test
