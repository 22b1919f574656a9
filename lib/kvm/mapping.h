// Sole owner of an mmap()ed range: unmaps it exactly once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace kvmrace {

class Mapping {
public:
    Mapping() = default;
    Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
    Mapping(Mapping&& other) noexcept
        : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    Mapping& operator=(Mapping&& other) noexcept {
        if (this != &other) {
            reset();
            addr_ = std::exchange(other.addr_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }

    // Throws KvmError("mmap", errno, ...) on failure.
    static Mapping map(size_t size, int prot, int flags, int fd = -1, off_t offset = 0);
    static Mapping anonymous(size_t size) {
        return map(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    }
    // A mapping of `size` whose address is a multiple of `align` (for THP-backed slots).
    static Mapping anonymous_aligned(size_t size, size_t align);

    uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
    size_t size() const { return size_; }
    uint64_t address() const { return reinterpret_cast<uint64_t>(addr_); }
    bool valid() const { return addr_ != nullptr; }
    void reset();

private:
    void* addr_ = nullptr;
    size_t size_ = 0;
};

}  // namespace kvmrace
