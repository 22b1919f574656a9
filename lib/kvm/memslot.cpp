#include "kvm/memslot.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "kvm/kvm_error.h"
#include "kvm/vm.h"

namespace kvmrace {

namespace {
constexpr uint64_t k2M = 2ull << 20;
}

std::string_view backing_name(Backing b) {
    switch (b) {
        case Backing::Anonymous: return "anon";
        case Backing::Thp: return "thp";
        case Backing::Hugetlb: return "hugetlb";
        case Backing::GuestMemfdShared: return "gmem-shared";
        case Backing::MemfdShared: return "memfd-shared";
        case Backing::GuestMemfdPrivate: return "gmem-private";
    }
    return "?";
}

Memslot::Memslot(Vm& vm, const MemslotSpec& spec)
    : vm_(&vm), spec_(spec), gpa_(spec.gpa), flags_(spec.flags) {
    switch (spec.backing) {
        case Backing::Anonymous: memory_ = Mapping::anonymous(spec.size); break;
        case Backing::Thp:
            memory_ = Mapping::anonymous_aligned(spec.size, k2M);
            ::madvise(memory_.data(), memory_.size(), MADV_HUGEPAGE);
            break;
        case Backing::Hugetlb:
            memory_ = Mapping::map(spec.size, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
            break;
        case Backing::GuestMemfdShared:
            gmem_.emplace(vm.create_guest_memfd(
                spec.size, uapi::kGuestMemfdFlagMmap | uapi::kGuestMemfdFlagInitShared));
            memory_ = gmem_->map(spec.size);
            flags_ |= uapi::kMemGuestMemfd;
            break;
        case Backing::GuestMemfdPrivate:
            gmem_.emplace(vm.create_guest_memfd(spec.size, 0));
            memory_ = Mapping::anonymous(spec.size);
            flags_ |= uapi::kMemGuestMemfd;
            break;
        case Backing::MemfdShared:
            memfd_.reset(::memfd_create("kvmrace-slot", MFD_CLOEXEC));
            if (!memfd_.valid()) throw KvmError("memfd_create", errno, "");
            if (::ftruncate(memfd_.get(), static_cast<off_t>(spec.size)) != 0)
                throw KvmError("ftruncate", errno, fmt::format("size={:#x}", spec.size));
            memory_ = Mapping::map(spec.size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get());
            break;
    }
    add();
}

Memslot::~Memslot() {
    if (present_) (void)try_remove();
}

uapi::UserspaceMemoryRegion2 Memslot::region() const {
    uapi::UserspaceMemoryRegion2 r{};
    r.slot = spec_.slot;
    r.flags = flags_;
    r.guest_phys_addr = gpa_;
    r.memory_size = spec_.size;
    r.userspace_addr = memory_.address();
    if (gmem_) {
        r.guest_memfd = static_cast<uint32_t>(gmem_->fd());
        r.guest_memfd_offset = 0;
    }
    return r;
}

Errno Memslot::apply(const uapi::UserspaceMemoryRegion2& r) {
    return vm_->try_set_memory_region(r);
}

Errno Memslot::try_remove() {
    uapi::UserspaceMemoryRegion2 r = region();
    r.memory_size = 0;
    Errno e = apply(r);
    if (e.ok()) present_ = false;
    return e;
}

Errno Memslot::try_add() {
    Errno e = apply(region());
    if (e.ok()) present_ = true;
    return e;
}

Errno Memslot::try_move(uint64_t new_gpa) {
    uapi::UserspaceMemoryRegion2 r = region();
    r.guest_phys_addr = new_gpa;
    Errno e = apply(r);
    if (e.ok()) gpa_ = new_gpa;
    return e;
}

Errno Memslot::try_set_flags(uint32_t flags) {
    uapi::UserspaceMemoryRegion2 r = region();
    r.flags = flags | (gmem_ ? uapi::kMemGuestMemfd : 0);
    Errno e = apply(r);
    if (e.ok()) flags_ = r.flags;
    return e;
}

Errno Memslot::try_madvise_dontneed() {
    return Errno{::madvise(memory_.data(), memory_.size(), MADV_DONTNEED) == 0 ? 0 : errno};
}

Errno Memslot::try_remap() {
    if (!memfd_.valid()) return Errno{EINVAL};
    // MAP_FIXED replaces the old mapping in one step: the invalidation KVM sees, with no window
    // in which the address is unmapped (which would make KVM_RUN fail with EFAULT).
    void* p = ::mmap(memory_.data(), memory_.size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                     memfd_.get(), 0);
    return Errno{p == MAP_FAILED ? errno : 0};
}

Errno Memslot::try_protect(int prot) {
    return Errno{::mprotect(memory_.data(), memory_.size(), prot) == 0 ? 0 : errno};
}

namespace {
void check(Errno e, const char* what, const uapi::UserspaceMemoryRegion2& r) {
    if (!e.ok())
        throw KvmError(fmt::format("KVM_SET_USER_MEMORY_REGION2 ({})", what), e.value, describe(r));
}
}  // namespace

void Memslot::remove() { check(try_remove(), "delete", region()); }
void Memslot::add() { check(try_add(), "add", region()); }
void Memslot::move(uint64_t new_gpa) {
    uapi::UserspaceMemoryRegion2 r = region();
    r.guest_phys_addr = new_gpa;
    check(try_move(new_gpa), "move", r);
}
void Memslot::set_flags(uint32_t flags) { check(try_set_flags(flags), "set flags", region()); }

}  // namespace kvmrace
