// The host half of the data pattern in guest/abi.h: fill host memory exactly as a guest's
// fill_pattern would, and find the first word that differs, to check what the guest wrote.
#pragma once

#include <cstdint>
#include <optional>

namespace kvmrace {

// Host memory `mem` backs guest range [gpa, gpa + size).
void host_fill_pattern(uint8_t* mem, uint64_t gpa, uint64_t size, uint64_t seed);
// Byte offset of the first 8-byte word that differs from the pattern; nullopt if none does.
std::optional<uint64_t> host_pattern_mismatch(const uint8_t* mem, uint64_t gpa, uint64_t size,
                                              uint64_t seed);

}  // namespace kvmrace
