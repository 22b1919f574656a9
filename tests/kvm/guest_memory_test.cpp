// Guest memory on every backing kvmrace races on: what the host writes the guest reads, and what
// the guest writes the host reads, through anonymous, THP, hugetlb and guest_memfd memory.
#include <cerrno>
#include <cstring>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "kvm/kvm_error.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kSlotBytes = 4ull << 20;  // two 2 MiB pages

using payload::memory::kFill;
using payload::memory::kVerify;

class KvmGuestMemory : public KvmTest, public testing::WithParamInterface<Backing> {
protected:
    // The data slot on the requested backing, or a SKIP with the reason it cannot be had here.
    Memslot* add_data_slot(GuestVm& g) {
        Backing b = GetParam();
        if (b == Backing::GuestMemfdShared) {
            int flags = g.vm().check_extension(uapi::kCapGuestMemfdFlags);
            uint64_t want = uapi::kGuestMemfdFlagMmap | uapi::kGuestMemfdFlagInitShared;
            if ((flags & want) != want) {
                skip_reason_ =
                    capability_reason(uapi::kCapGuestMemfdFlags, flags) + ", need MMAP|INIT_SHARED";
                return nullptr;
            }
        }
        try {
            return &g.add_slot({1, abi::kDataBase, kSlotBytes, 0, b});
        } catch (const KvmError& e) {
            if (b == Backing::Hugetlb && e.call() == "mmap" && e.err() == ENOMEM) {
                skip_reason_ =
                    "no free 2 MiB hugepages (mmap MAP_HUGETLB: ENOMEM; set vm.nr_hugepages)";
                return nullptr;
            }
            throw;
        }
    }
    std::string skip_reason_;
};

TEST_P(KvmGuestMemory, HostWritesGuestReadsAndBack) {
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    Memslot* s = add_data_slot(g);
    if (!s) GTEST_SKIP() << skip_reason_;
    host_fill_pattern(s->host(), abi::kDataBase, kSlotBytes, 11);
    g.start(0, {kVerify, abi::kDataBase, kSlotBytes, 11});
    EXPECT_EQ(g.run_to_done(), 0u);
    g.start(0, {kFill, abi::kDataBase, kSlotBytes, 12});
    EXPECT_EQ(g.run_to_done(), 0u);
    EXPECT_EQ(host_pattern_mismatch(s->host(), abi::kDataBase, kSlotBytes, 12), std::nullopt)
        << "the host does not see what the guest wrote";
}

std::string backing_test_name(const testing::TestParamInfo<Backing>& p) {
    switch (p.param) {
        case Backing::Anonymous: return "Anonymous";
        case Backing::Thp: return "Thp";
        case Backing::Hugetlb: return "Hugetlb";
        case Backing::GuestMemfdShared: return "GuestMemfdShared";
        case Backing::MemfdShared: return "MemfdShared";
        case Backing::GuestMemfdPrivate: return "GuestMemfdPrivate";
    }
    return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(, KvmGuestMemory,
                         testing::Values(Backing::Anonymous, Backing::Thp, Backing::Hugetlb,
                                         Backing::GuestMemfdShared, Backing::MemfdShared),
                         backing_test_name);

}  // namespace
}  // namespace kvmrace::test
