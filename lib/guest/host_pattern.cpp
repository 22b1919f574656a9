#include "guest/host_pattern.h"

#include <cstring>

#include "abi.h"

namespace kvmrace {

void host_fill_pattern(uint8_t* mem, uint64_t gpa, uint64_t size, uint64_t seed) {
    for (uint64_t off = 0; off < size; off += 8) {
        uint64_t v = abi::pattern_word(gpa + off, seed);
        std::memcpy(mem + off, &v, 8);
    }
}

std::optional<uint64_t> host_pattern_mismatch(const uint8_t* mem, uint64_t gpa, uint64_t size,
                                              uint64_t seed) {
    for (uint64_t off = 0; off < size; off += 8) {
        uint64_t v;
        std::memcpy(&v, mem + off, 8);
        if (v != abi::pattern_word(gpa + off, seed)) return off;
    }
    return std::nullopt;
}

}  // namespace kvmrace
