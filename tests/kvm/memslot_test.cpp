// Memslots: add, delete, move, flags, and the errors KVM_SET_USER_MEMORY_REGION2 defines.
#include <sys/mman.h>

#include <cstring>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "kvm/memslot.h"
#include "kvm/vm.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kSlotBytes = 64 * kPage;

using payload::memory::kFill;
using payload::memory::kVerify;

class KvmMemslot : public KvmTest {
protected:
    GuestVm guest() { return GuestVm(system(), {PayloadId::Memory, 1, Privilege::Cpl3}); }
};

TEST_F(KvmMemslot, DeleteThenReAddKeepsHostMemory) {
    GuestVm g = guest();
    Memslot& s = g.add_slot({1, abi::kDataBase, kSlotBytes});
    g.start(0, {kFill, abi::kDataBase, kSlotBytes, 7});
    ASSERT_EQ(g.run_to_done(), 0u);
    s.remove();
    EXPECT_FALSE(s.present());
    s.add();
    g.start(0, {kVerify, abi::kDataBase, kSlotBytes, 7});
    EXPECT_EQ(g.run_to_done(), 0u) << "data written before the delete must be visible after re-add";
}

TEST_F(KvmMemslot, GuestSeesSlotAtItsNewBaseAfterMove) {
    GuestVm g = guest();
    Memslot& s = g.add_slot({1, abi::kDataBase, kSlotBytes});
    g.start(0, {kFill, abi::kDataBase, kSlotBytes, 9});
    ASSERT_EQ(g.run_to_done(), 0u);
    const uint64_t moved = abi::kDataBase + (1ull << 30);
    s.move(moved);
    // The pattern depends on the GPA, so the host rewrites it for the new base, and the guest
    // must read exactly that at the new GPA and nothing at the old one.
    host_fill_pattern(s.host(), moved, kSlotBytes, 9);
    g.start(0, {kVerify, moved, kSlotBytes, 9});
    EXPECT_EQ(g.run_to_done(), 0u);
    g.start(0, {kVerify, abi::kDataBase, kSlotBytes, 9});
    GuestExit e = g.run();
    EXPECT_EQ(e.reason, ExitReason::Mmio) << "old base must be unbacked: " << g.describe_exit();
}

TEST_F(KvmMemslot, ReadonlySlotReadsWorkAndWritesExitAsMmio) {
    GuestVm g = guest();
    Memslot& s = g.add_slot({1, abi::kDataBase, kSlotBytes, uapi::kMemReadonly});
    host_fill_pattern(s.host(), abi::kDataBase, kSlotBytes, 3);
    g.start(0, {kVerify, abi::kDataBase, kSlotBytes, 3});
    EXPECT_EQ(g.run_to_done(), 0u);
    g.start(0, {kFill, abi::kDataBase, kSlotBytes, 4});
    GuestExit e = g.run();
    ASSERT_EQ(e.reason, ExitReason::Mmio) << g.describe_exit();
    const kvm_run& run = g.vcpu().run_state();
    EXPECT_EQ(run.mmio.phys_addr, abi::kDataBase);
    EXPECT_EQ(run.mmio.is_write, 1);
    EXPECT_EQ(host_pattern_mismatch(s.host(), abi::kDataBase, kSlotBytes, 3), std::nullopt)
        << "a readonly slot's memory changed";
}

TEST_F(KvmMemslot, DirtyLogFlagTogglesOnAndOff) {
    Vm vm = system().create_vm();
    Memslot s(vm, {1, abi::kDataBase, kSlotBytes});
    s.set_flags(uapi::kMemLogDirtyPages);
    EXPECT_EQ(s.flags(), uapi::kMemLogDirtyPages);
    EXPECT_EQ(vm.get_dirty_log(1, kSlotBytes / kPage).size(), 1u);
    s.set_flags(0);
    EXPECT_EQ(s.flags(), 0u);
}

TEST_F(KvmMemslot, ReadonlyCannotBeToggledOnALiveSlot) {
    Vm vm = system().create_vm();
    Memslot s(vm, {1, abi::kDataBase, kSlotBytes});
    EXPECT_EQ(s.try_set_flags(uapi::kMemReadonly), EINVAL);
}

TEST_F(KvmMemslot, DeletingASlotThatDoesNotExistIsEinval) {
    Vm vm = system().create_vm();
    uapi::UserspaceMemoryRegion2 r{};
    r.slot = 5;
    EXPECT_EQ(vm.try_set_memory_region(r), EINVAL);
}

TEST_F(KvmMemslot, ResizeOrNewHostAddressOfALiveSlotIsEinval) {
    Vm vm = system().create_vm();
    Memslot s(vm, {1, abi::kDataBase, kSlotBytes});
    uapi::UserspaceMemoryRegion2 r = s.region();
    r.memory_size = kSlotBytes / 2;
    EXPECT_EQ(vm.try_set_memory_region(r), EINVAL) << "resize";
    Mapping other = Mapping::anonymous(kSlotBytes);
    r = s.region();
    r.userspace_addr = other.address();
    EXPECT_EQ(vm.try_set_memory_region(r), EINVAL) << "new host address";
}

TEST_F(KvmMemslot, AllSlotsUpToNrMemslotsThenEinval) {
    Vm vm = system().create_vm();
    const int nr = system().check_extension(KVM_CAP_NR_MEMSLOTS);
    ASSERT_GT(nr, 0);
    // One page per slot, all from one untouched mapping.
    Mapping mem = Mapping::map(uint64_t(nr + 1) * kPage, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    for (int i = 0; i < nr; ++i) {
        uapi::UserspaceMemoryRegion2 r{};
        r.slot = static_cast<uint32_t>(i);
        r.guest_phys_addr = uint64_t(i) * kPage;
        r.memory_size = kPage;
        r.userspace_addr = mem.address() + uint64_t(i) * kPage;
        Errno e = vm.try_set_memory_region(r);
        ASSERT_TRUE(e.ok()) << "slot " << i << " of " << nr << ": " << e.describe();
    }
    uapi::UserspaceMemoryRegion2 r{};
    r.slot = static_cast<uint32_t>(nr);
    r.guest_phys_addr = uint64_t(nr) * kPage;
    r.memory_size = kPage;
    r.userspace_addr = mem.address() + uint64_t(nr) * kPage;
    EXPECT_EQ(vm.try_set_memory_region(r), EINVAL) << "slot id " << nr << " = KVM_CAP_NR_MEMSLOTS";
}

// The kernel's rules for a new region, one row each.
struct RegionCase {
    const char* name;
    // Relative to a valid 64-page region of slot 2 at kDataBase; slot 1 already occupies
    // [kDataBase + 1 GiB, +64 pages) so overlap rows can collide with it.
    uint32_t slot = 2;
    int64_t gpa_delta = 0;
    int64_t size_delta = 0;
    int64_t hva_delta = 0;
    uint32_t flags = 0;
    int want;
};

constexpr uint64_t kOther = abi::kDataBase + (1ull << 30);

class KvmMemslotRules : public KvmTest, public testing::WithParamInterface<RegionCase> {};

TEST_P(KvmMemslotRules, NewRegion) {
    const RegionCase& c = GetParam();
    Vm vm = system().create_vm();
    Memslot occupant(vm, {1, kOther, kSlotBytes});
    Mapping mem = Mapping::anonymous(4 * kSlotBytes);
    uapi::UserspaceMemoryRegion2 r{};
    r.slot = c.slot;
    r.flags = c.flags;
    r.guest_phys_addr = uint64_t(int64_t(abi::kDataBase) + c.gpa_delta);
    r.memory_size = uint64_t(int64_t(kSlotBytes) + c.size_delta);
    r.userspace_addr = uint64_t(int64_t(mem.address() + kSlotBytes) + c.hva_delta);
    Errno e = vm.try_set_memory_region(r);
    EXPECT_EQ(e, c.want) << describe(r) << " -> " << e.describe();
}

constexpr int64_t kToOther = int64_t(kOther - abi::kDataBase);

INSTANTIATE_TEST_SUITE_P(
    , KvmMemslotRules,
    testing::Values(
        RegionCase{.name = "Valid", .want = 0},
        RegionCase{.name = "ValidDirtyLog", .flags = uapi::kMemLogDirtyPages, .want = 0},
        RegionCase{.name = "ValidReadonly", .flags = uapi::kMemReadonly, .want = 0},
        RegionCase{.name = "UnalignedGpa", .gpa_delta = 0x800, .want = EINVAL},
        RegionCase{.name = "UnalignedSize", .size_delta = -0x800, .want = EINVAL},
        RegionCase{.name = "UnalignedHostAddress", .hva_delta = 0x10, .want = EINVAL},
        RegionCase{.name = "UnknownFlag", .flags = 1u << 7, .want = EINVAL},
        RegionCase{
            .name = "GpaWraps", .gpa_delta = -int64_t(abi::kDataBase) - 4096, .want = EINVAL},
        RegionCase{.name = "SlotIdBeyondUserSlots", .slot = 0xffff, .want = EINVAL},
        RegionCase{.name = "ExactOverlap", .gpa_delta = kToOther, .want = EEXIST},
        RegionCase{.name = "OverlapsHead",
                   .gpa_delta = kToOther - int64_t(kSlotBytes / 2),
                   .want = EEXIST},
        RegionCase{.name = "OverlapsTail",
                   .gpa_delta = kToOther + int64_t(kSlotBytes / 2),
                   .want = EEXIST},
        RegionCase{.name = "ContainedIn",
                   .gpa_delta = kToOther + 4096,
                   .size_delta = -2 * 4096,
                   .want = EEXIST},
        RegionCase{.name = "Contains",
                   .gpa_delta = kToOther - 4096,
                   .size_delta = 2 * 4096,
                   .want = EEXIST},
        RegionCase{
            .name = "AdjacentBelow", .gpa_delta = kToOther - int64_t(kSlotBytes), .want = 0}),
    [](const testing::TestParamInfo<RegionCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace kvmrace::test
