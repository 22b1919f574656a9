// KVM_PRE_FAULT_MEMORY's API contract (the races on it live in the race engine): argument
// checks, ENOENT without a memslot, and a full prefault that really maps the range.
#include <cstring>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "kvm/stats.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kSlotBytes = 4ull << 20;

class KvmPrefault : public KvmTest {
protected:
    void SetUp() override {
        KvmTest::SetUp();
        if (IsSkipped()) return;
        int cap = system().check_extension(uapi::kCapPreFaultMemory);
        if (cap == 0) {
            // Say what the ioctl itself answers here, on a set-up vCPU and a backed GPA.
            GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
            g.add_slot({1, abi::kDataBase, kSlotBytes});
            PrefaultResult r = g.vcpu().pre_fault(abi::kDataBase, abi::kPageSize);
            GTEST_SKIP() << capability_reason(uapi::kCapPreFaultMemory, cap)
                         << "; KVM_PRE_FAULT_MEMORY: " << r.err.describe();
        }
    }
};

struct BadArgs {
    const char* name;
    uint64_t gpa, size, flags;
};

class KvmPrefaultArgs : public KvmPrefault, public testing::WithParamInterface<BadArgs> {};

TEST_P(KvmPrefaultArgs, RejectedWithEinvalAndRangeUntouched) {
    const BadArgs& c = GetParam();
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    g.add_slot({1, abi::kDataBase, kSlotBytes});
    PrefaultResult r = g.vcpu().pre_fault(c.gpa, c.size, c.flags);
    EXPECT_EQ(r.ret, -1);
    EXPECT_EQ(r.err, EINVAL);
    EXPECT_EQ(r.gpa_after, c.gpa);
    EXPECT_EQ(r.size_after, c.size);
}

INSTANTIATE_TEST_SUITE_P(
    , KvmPrefaultArgs,
    testing::Values(BadArgs{"NonZeroFlags", abi::kDataBase, abi::kPageSize, 1},
                    BadArgs{"UnalignedGpa", abi::kDataBase + 8, abi::kPageSize, 0},
                    BadArgs{"UnalignedSize", abi::kDataBase, 100, 0},
                    BadArgs{"ZeroSize", abi::kDataBase, 0, 0},
                    BadArgs{"RangeWraps", ~0ull & ~0xfffull, 2 * abi::kPageSize, 0}),
    [](const testing::TestParamInfo<BadArgs>& p) { return std::string(p.param.name); });

TEST_F(KvmPrefault, GpaWithoutMemslotIsEnoent) {
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    PrefaultResult r = g.vcpu().pre_fault(abi::kUnbackedGpa, abi::kPageSize);
    EXPECT_EQ(r.err, ENOENT);
    EXPECT_EQ(r.size_after, r.size_before);
}

TEST_F(KvmPrefault, WholeSlotIsMappedAndContractHoldsOnEveryCall) {
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    Memslot& s = g.add_slot({1, abi::kDataBase, kSlotBytes, 0, Backing::Thp});
    host_fill_pattern(s.host(), abi::kDataBase, kSlotBytes, 5);
    Stats stats(g.vm().stats_fd());
    const uint64_t mapped_before = stats.read("pages_4k").value_or(0) * 4096 +
                                   stats.read("pages_2m").value_or(0) * (2ull << 20);
    uint64_t gpa = abi::kDataBase, size = kSlotBytes;
    for (int calls = 0; size > 0; ++calls) {
        ASSERT_LT(calls, 4096) << "prefault makes no progress";
        PrefaultResult r = g.vcpu().pre_fault(gpa, size);
        ASSERT_NE(r.size_after < r.size_before, r.ret < 0)
            << "(size shrank) XOR (ret < 0) broken: ret=" << r.ret << " " << r.err;
        ASSERT_EQ(r.gpa_after - r.gpa_before, r.mapped()) << "gpa must advance by what size lost";
        ASSERT_GE(r.ret, 0) << r.err;
        gpa = r.gpa_after;
        size = r.size_after;
    }
    const uint64_t mapped_after = stats.read("pages_4k").value_or(0) * 4096 +
                                  stats.read("pages_2m").value_or(0) * (2ull << 20);
    EXPECT_GE(mapped_after - mapped_before, kSlotBytes)
        << "pages_4k/pages_2m did not grow by the slot";
    g.start(0, {payload::memory::kVerify, abi::kDataBase, kSlotBytes, 5});
    EXPECT_EQ(g.run_to_done(), 0u);
}

}  // namespace
}  // namespace kvmrace::test
