// A memslot and the host memory behind it. The slot is registered while the object says so and
// deleted by the destructor; delete/move/flag changes are the mutations the race tests perform.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "kvm/errno_result.h"
#include "kvm/guest_memfd.h"
#include "kvm/mapping.h"
#include "kvm/uapi.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

class Vm;

enum class Backing {
    Anonymous,          // MAP_PRIVATE|MAP_ANONYMOUS, 4 KiB pages
    Thp,                // anonymous, 2 MiB aligned, MADV_HUGEPAGE
    Hugetlb,            // MAP_HUGETLB 2 MiB pages (needs reserved hugepages)
    GuestMemfdShared,   // guest_memfd with MMAP|INIT_SHARED; userspace_addr is its own mmap
    MemfdShared,        // MAP_SHARED memfd: data survives MADV_DONTNEED and a MAP_FIXED remap
    GuestMemfdPrivate,  // guest_memfd without mmap (private memory), anonymous shared half
};
std::string_view backing_name(Backing b);

struct MemslotSpec {
    uint32_t slot;
    uint64_t gpa;
    uint64_t size;
    uint32_t flags = 0;  // KVM_MEM_* other than GUEST_MEMFD (the backing decides that)
    Backing backing = Backing::Anonymous;
};

class Memslot {
public:
    // Allocates the backing and registers the slot; throws KvmError on failure.
    Memslot(Vm& vm, const MemslotSpec& spec);
    Memslot(const Memslot&) = delete;
    Memslot& operator=(const Memslot&) = delete;
    ~Memslot();

    uint32_t slot() const { return spec_.slot; }
    uint64_t gpa() const { return gpa_; }
    // Where it was created (a move changes gpa(), not this).
    uint64_t home_gpa() const { return spec_.gpa; }
    uint64_t size() const { return spec_.size; }
    uint32_t flags() const { return flags_; }
    Backing backing() const { return spec_.backing; }
    bool present() const { return present_; }
    uint8_t* host() const { return memory_.data(); }
    const GuestMemfd* guest_memfd() const { return gmem_ ? &*gmem_ : nullptr; }
    // The region as it is (or would be) registered now.
    uapi::UserspaceMemoryRegion2 region() const;

    // Mutations. try_* return the errno and update the object's view only on success.
    Errno try_remove();
    Errno try_add();
    Errno try_move(uint64_t new_gpa);
    Errno try_set_flags(uint32_t flags);
    void remove();
    void add();
    void move(uint64_t new_gpa);
    void set_flags(uint32_t flags);
    // mmu-notifier invalidations of the host memory (no memslot change). MemfdShared only for
    // remap; both keep the data.
    Errno try_madvise_dontneed();
    Errno try_remap();
    Errno try_protect(int prot);

private:
    Errno apply(const uapi::UserspaceMemoryRegion2& r);

    Vm* vm_;
    MemslotSpec spec_;
    uint64_t gpa_;
    uint32_t flags_;
    bool present_ = false;
    std::optional<GuestMemfd> gmem_;
    UniqueFd memfd_;
    Mapping memory_;
};

}  // namespace kvmrace
