#include "kvm/guest_memfd.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>

#include <cerrno>

namespace kvmrace {

Mapping GuestMemfd::map(uint64_t size, uint64_t offset) const {
    return Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd(), static_cast<off_t>(offset));
}

Errno GuestMemfd::try_map(uint64_t size, uint64_t offset) const {
    void* p =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd(), static_cast<off_t>(offset));
    if (p == MAP_FAILED) return Errno{errno};
    ::munmap(p, size);
    return {};
}

Errno GuestMemfd::try_punch_hole(uint64_t offset, uint64_t len) const {
    int r = ::fallocate(fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        static_cast<off_t>(offset), static_cast<off_t>(len));
    return Errno{r < 0 ? errno : 0};
}

}  // namespace kvmrace
