// A guest_memfd (KVM_CREATE_GUEST_MEMFD): the fd, its size and flags, mmap and hole punching.
#pragma once

#include <cstdint>

#include "kvm/errno_result.h"
#include "kvm/mapping.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

class GuestMemfd {
public:
    GuestMemfd(UniqueFd fd, uint64_t size, uint64_t flags)
        : fd_(std::move(fd)), size_(size), flags_(flags) {}

    int fd() const { return fd_.get(); }
    uint64_t size() const { return size_; }
    uint64_t flags() const { return flags_; }

    // MAP_SHARED of [offset, offset+size); needs GUEST_MEMFD_FLAG_MMAP.
    Mapping map(uint64_t size, uint64_t offset = 0) const;
    Errno try_map(uint64_t size, uint64_t offset = 0) const;  // unmapped again on success
    // fallocate(PUNCH_HOLE | KEEP_SIZE): the range reads back as zeros afterwards.
    Errno try_punch_hole(uint64_t offset, uint64_t len) const;

private:
    UniqueFd fd_;
    uint64_t size_;
    uint64_t flags_;
};

}  // namespace kvmrace
