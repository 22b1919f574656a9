// guest_memfd: creation flags and sizes, mmap rules, hole punching, binding rules, and a guest
// that runs from guest_memfd memory.
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include <cstring>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "kvm/guest_memfd.h"
#include "kvm/vm.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kSize = 2ull << 20;
constexpr uint64_t kMmap = uapi::kGuestMemfdFlagMmap;
constexpr uint64_t kInitShared = uapi::kGuestMemfdFlagInitShared;

class KvmGuestMemfd : public KvmTest {
protected:
    void SetUp() override {
        KvmTest::SetUp();
        if (IsSkipped()) return;
        KVMRACE_REQUIRE_CAP(system(), uapi::kCapGuestMemfd);
        vm_ = std::make_unique<Vm>(system().create_vm());
        supported_ = static_cast<uint64_t>(vm_->check_extension(uapi::kCapGuestMemfdFlags));
    }
    // A guest_memfd slot on a default VM: VM-scope KVM_CAP_GUEST_MEMFD (before 6.18 only VMs
    // with private memory could bind one; KVM_SET_USER_MEMORY_REGION2 then says EINVAL).
    void require_binding() {
        const int v = vm_->check_extension(uapi::kCapGuestMemfd);
        if (v == 0)
            GTEST_SKIP() << capability_reason(uapi::kCapGuestMemfd, v)
                         << " on a default VM: no guest_memfd slot to bind";
    }
    // GTEST_SKIP here returns from this helper only: callers return on IsSkipped().
    void require_flags(uint64_t flags) {
        if ((supported_ & flags) != flags)
            GTEST_SKIP() << capability_reason(uapi::kCapGuestMemfdFlags, int(supported_))
                         << fmt::format(", flags {:#x} unsupported", flags);
    }
    // A guest_memfd memslot bound at `offset` of `gmem`, its host address a fresh mapping.
    uapi::UserspaceMemoryRegion2 gmem_region(uint32_t slot, uint64_t gpa, uint64_t size,
                                             int gmem_fd, uint64_t offset) {
        hosts_.push_back(Mapping::anonymous(size));
        uapi::UserspaceMemoryRegion2 r{};
        r.slot = slot;
        r.flags = uapi::kMemGuestMemfd;
        r.guest_phys_addr = gpa;
        r.memory_size = size;
        r.userspace_addr = hosts_.back().address();
        r.guest_memfd = static_cast<uint32_t>(gmem_fd);
        r.guest_memfd_offset = offset;
        return r;
    }
    std::unique_ptr<Vm> vm_;
    uint64_t supported_ = 0;
    std::vector<Mapping> hosts_;
};

// ---- creation: one row per flag combination and size rule ----
struct CreateCase {
    const char* name;
    uint64_t size;
    uint64_t flags;
    int want;  // for flags the kernel reports as supported; unsupported flags must be EINVAL
};

class KvmGuestMemfdCreate : public KvmGuestMemfd, public testing::WithParamInterface<CreateCase> {};

TEST_P(KvmGuestMemfdCreate, FlagsAndSize) {
    const CreateCase& c = GetParam();
    const bool supported = (c.flags & ~supported_) == 0;
    const int want = supported ? c.want : EINVAL;
    Errno e = vm_->try_create_guest_memfd(c.size, c.flags);
    EXPECT_EQ(e, want) << fmt::format("size={:#x} flags={:#x} (supported mask {:#x}) -> {}", c.size,
                                      c.flags, supported_, e.describe());
}

INSTANTIATE_TEST_SUITE_P(
    , KvmGuestMemfdCreate,
    testing::Values(CreateCase{"NoFlags", kSize, 0, 0}, CreateCase{"Mmap", kSize, kMmap, 0},
                    CreateCase{"InitShared", kSize, kInitShared, 0},
                    CreateCase{"MmapInitShared", kSize, kMmap | kInitShared, 0},
                    CreateCase{"UnknownFlagBit2", kSize, 1ull << 2, EINVAL},
                    CreateCase{"UnknownFlagBit63", kSize, 1ull << 63, EINVAL},
                    CreateCase{"SizeZero", 0, 0, EINVAL},
                    CreateCase{"SizeUnaligned", kSize + 1, 0, EINVAL},
                    CreateCase{"SizeNegative", ~0ull & ~0xfffull, 0, EINVAL}),
    [](const testing::TestParamInfo<CreateCase>& p) { return std::string(p.param.name); });

// ---- mmap rules ----
TEST_F(KvmGuestMemfd, MmapWithoutMmapFlagIsEnodev) {
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    EXPECT_EQ(g.try_map(kSize), ENODEV);
}

TEST_F(KvmGuestMemfd, PrivateMmapIsEinval) {
    require_flags(kMmap | kInitShared);
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, kMmap | kInitShared);
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, g.fd(), 0);
    int err = p == MAP_FAILED ? errno : 0;
    if (p != MAP_FAILED) ::munmap(p, kSize);
    EXPECT_EQ(err, EINVAL) << "guest_memfd mappings must be MAP_SHARED";
}

sigjmp_buf g_sigbus_jump;
void on_sigbus(int) { siglongjmp(g_sigbus_jump, 1); }

// Touches `p`; true if that raised SIGBUS.
bool touch_raises_sigbus(volatile uint8_t* p) {
    struct sigaction sa {
    }, old{};
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    bool raised = false;
    if (sigsetjmp(g_sigbus_jump, 1) == 0)
        *p = 1;
    else
        raised = true;
    sigaction(SIGBUS, &old, nullptr);
    return raised;
}

TEST_F(KvmGuestMemfd, MmapWithoutInitSharedFaultsWithSigbus) {
    require_flags(kMmap);
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, kMmap);
    Mapping m = g.map(kSize);  // mapping works; the memory is private to the guest
    EXPECT_TRUE(touch_raises_sigbus(m.data())) << "host touch of private guest_memfd memory";
}

TEST_F(KvmGuestMemfd, InitSharedMemoryIsHostReadableAndWritable) {
    require_flags(kMmap | kInitShared);
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, kMmap | kInitShared);
    Mapping m = g.map(kSize);
    EXPECT_FALSE(touch_raises_sigbus(m.data() + 4096));
    std::memset(m.data(), 0x5a, kSize);
    Mapping again = g.map(kSize);
    EXPECT_EQ(again.data()[kSize - 1], 0x5a) << "two mappings of one guest_memfd share pages";
}

TEST_F(KvmGuestMemfd, PunchHoleReadsBackZeros) {
    require_flags(kMmap | kInitShared);
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, kMmap | kInitShared);
    Mapping m = g.map(kSize);
    std::memset(m.data(), 0xa5, kSize);
    ASSERT_TRUE(g.try_punch_hole(4096, 3 * 4096).ok());
    EXPECT_EQ(m.data()[4095], 0xa5) << "byte before the hole";
    for (uint64_t off = 4096; off < 4 * 4096; ++off)
        ASSERT_EQ(m.data()[off], 0) << "offset " << off << " inside the punched hole";
    EXPECT_EQ(m.data()[4 * 4096], 0xa5) << "byte after the hole";
}

TEST_F(KvmGuestMemfd, PunchHoleWithoutKeepSizeIsRejected) {
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    int r = ::fallocate(g.fd(), FALLOC_FL_PUNCH_HOLE, 0, 4096);
    EXPECT_EQ(r < 0 ? errno : 0, EOPNOTSUPP) << "PUNCH_HOLE needs KEEP_SIZE (fallocate(2))";
}

// ---- binding rules ----
TEST_F(KvmGuestMemfd, BindWholeFileThenDelete) {
    require_binding();
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    auto r = gmem_region(1, abi::kDataBase, kSize, g.fd(), 0);
    ASSERT_TRUE(vm_->try_set_memory_region(r).ok());
    r.memory_size = 0;
    EXPECT_TRUE(vm_->try_set_memory_region(r).ok());
}

TEST_F(KvmGuestMemfd, OverlappingBindingIsEinval) {
    require_binding();
    if (IsSkipped()) return;
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    ASSERT_TRUE(
        vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, kSize / 2, g.fd(), 0)).ok());
    auto overlapping = gmem_region(2, abi::kDataBase + kSize, kSize / 2, g.fd(), kSize / 4);
    EXPECT_EQ(vm_->try_set_memory_region(overlapping), EINVAL);
    auto disjoint = gmem_region(2, abi::kDataBase + kSize, kSize / 2, g.fd(), kSize / 2);
    EXPECT_TRUE(vm_->try_set_memory_region(disjoint).ok());
}

TEST_F(KvmGuestMemfd, BindingPastTheEndIsEinval) {
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, kSize, g.fd(), 4096)),
              EINVAL);
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, 2 * kSize, g.fd(), 0)),
              EINVAL);
}

TEST_F(KvmGuestMemfd, UnalignedOffsetIsEinval) {
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, 4096, g.fd(), 100)),
              EINVAL);
}

TEST_F(KvmGuestMemfd, GuestMemfdOfAnotherVmIsEinval) {
    Vm other = system().create_vm();
    GuestMemfd g = other.create_guest_memfd(kSize, 0);
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, kSize, g.fd(), 0)), EINVAL);
}

TEST_F(KvmGuestMemfd, FdThatIsNotAGuestMemfdIsEinval) {
    UniqueFd memfd(::memfd_create("kvmrace-not-gmem", MFD_CLOEXEC));
    ASSERT_TRUE(memfd.valid());
    ASSERT_EQ(::ftruncate(memfd.get(), kSize), 0);
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, kSize, memfd.get(), 0)),
              EINVAL);
}

TEST_F(KvmGuestMemfd, ClosedFdIsEbadf) {
    require_binding();
    if (IsSkipped()) return;
    int fd;
    {
        GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
        fd = g.fd();
    }
    EXPECT_EQ(vm_->try_set_memory_region(gmem_region(1, abi::kDataBase, kSize, fd, 0)), EBADF);
}

TEST_F(KvmGuestMemfd, DirtyLogAndReadonlyAreRejected) {
    GuestMemfd g = vm_->create_guest_memfd(kSize, 0);
    auto r = gmem_region(1, abi::kDataBase, kSize, g.fd(), 0);
    r.flags |= uapi::kMemLogDirtyPages;
    EXPECT_EQ(vm_->try_set_memory_region(r), EINVAL) << "dirty logging of guest_memfd";
    r.flags = uapi::kMemGuestMemfd | uapi::kMemReadonly;
    EXPECT_EQ(vm_->try_set_memory_region(r), EINVAL) << "readonly guest_memfd";
}

TEST_F(KvmGuestMemfd, BoundSlotCannotBeMovedOrReflagged) {
    require_flags(kMmap | kInitShared);
    if (IsSkipped()) return;
    Memslot s(*vm_, {1, abi::kDataBase, kSize, 0, Backing::GuestMemfdShared});
    EXPECT_EQ(s.try_move(abi::kDataBase + kSize), EINVAL) << "guest_memfd slots are immutable";
    EXPECT_EQ(s.try_set_flags(uapi::kMemLogDirtyPages), EINVAL);
    EXPECT_TRUE(s.try_remove().ok());
}

TEST_F(KvmGuestMemfd, GuestRunsFromGuestMemfdAndHostReadsItsWrites) {
    require_flags(kMmap | kInitShared);
    if (IsSkipped()) return;
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3, false, uapi::VmType::Default,
                         Backing::GuestMemfdShared});
    ASSERT_NE(g.system_slot().guest_memfd(), nullptr) << "code and stack live in guest_memfd";
    Memslot& data = g.add_slot({1, abi::kDataBase, kSize, 0, Backing::GuestMemfdShared});
    g.start(0, {payload::memory::kFill, abi::kDataBase, kSize, 21});
    EXPECT_EQ(g.run_to_done(), 0u);
    EXPECT_EQ(host_pattern_mismatch(data.host(), abi::kDataBase, kSize, 21), std::nullopt)
        << "first byte offset where the host does not see the guest's write";
}

}  // namespace
}  // namespace kvmrace::test
