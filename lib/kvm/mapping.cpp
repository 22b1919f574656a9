#include "kvm/mapping.h"

#include <fmt/format.h>

#include <cerrno>

#include "kvm/kvm_error.h"

namespace kvmrace {

Mapping Mapping::map(size_t size, int prot, int flags, int fd, off_t offset) {
    void* p = ::mmap(nullptr, size, prot, flags, fd, offset);
    if (p == MAP_FAILED)
        throw KvmError("mmap", errno,
                       fmt::format("size={:#x} prot={:#x} flags={:#x} fd={} offset={:#x}", size,
                                   prot, flags, fd, offset));
    return Mapping(p, size);
}

Mapping Mapping::anonymous_aligned(size_t size, size_t align) {
    // Over-allocate, then trim the unaligned head and the tail.
    Mapping raw = anonymous(size + align);
    uint64_t start = (raw.address() + align - 1) & ~(uint64_t(align) - 1);
    size_t head = start - raw.address();
    size_t tail = raw.size() - head - size;
    void* base = raw.addr_;
    raw.addr_ = nullptr;
    raw.size_ = 0;
    if (head) ::munmap(base, head);
    if (tail) ::munmap(reinterpret_cast<void*>(start + size), tail);
    return Mapping(reinterpret_cast<void*>(start), size);
}

void Mapping::reset() {
    if (addr_) ::munmap(addr_, size_);
    addr_ = nullptr;
    size_ = 0;
}

}  // namespace kvmrace
