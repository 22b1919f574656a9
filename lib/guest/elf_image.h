// A payload ELF as embedded in the binary: its loadable segments, entry point and symbols.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace kvmrace {

struct ElfSegment {
    uint64_t gpa;
    std::span<const uint8_t> bytes;  // file contents
    uint64_t mem_size;               // >= bytes.size(); the rest is zero (bss)
};

class ElfImage {
public:
    // Validates the image (ELF64, x86-64, executable); throws std::runtime_error if malformed.
    explicit ElfImage(std::span<const uint8_t> image);

    uint64_t entry() const { return entry_; }
    const std::vector<ElfSegment>& segments() const { return segments_; }
    std::optional<uint64_t> symbol(std::string_view name) const;

private:
    std::span<const uint8_t> image_;
    uint64_t entry_ = 0;
    std::vector<ElfSegment> segments_;
};

}  // namespace kvmrace
