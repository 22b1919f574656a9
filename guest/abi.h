// The contract between guest payloads and the host library: guest memory layout, the ucall
// protocol and the data pattern. Included by freestanding guest code and by the host, so it uses
// nothing but fixed-width integers.
#pragma once

#include <stdint.h>

namespace kvmrace::abi {

// ---- Guest physical layout (identity mapped: guest virtual == guest physical) ----
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kSystemSlotSize = 8ull << 20;  // slot 0 at GPA 0
inline constexpr uint64_t kPml4 = 0x1000;
inline constexpr uint64_t kPdpt = 0x2000;
inline constexpr uint64_t kPageDirs = 0x3000;  // 4 page directories: 0..4 GiB, 2 MiB pages
inline constexpr uint64_t kIdentityMapBytes = 4ull << 30;
inline constexpr uint64_t kGdt = 0x7000;
inline constexpr uint64_t kTssBase = 0x10000;  // one TSS + I/O bitmap per vCPU
inline constexpr uint64_t kTssStride = 0x3000;
inline constexpr uint64_t kTssLimit = 104 + 8192;  // header, 65536-port bitmap, 0xff
inline constexpr uint64_t kIdt = 0x8000;
inline constexpr uint64_t kPayloadBase = 0x100000;  // payload ELF is linked here
inline constexpr uint64_t kPayloadLimit = 0x400000;
inline constexpr uint64_t kStacksBase = 0x400000;  // per vCPU: stack, then interrupt stack
inline constexpr uint64_t kStackSize = 0x10000;
inline constexpr uint64_t kScratchBase = 0x700000;  // host<->guest shared control data
inline constexpr unsigned kMaxVcpus = 16;
inline constexpr uint64_t kDataBase = 0x40000000;     // where tests place their own slots
inline constexpr uint64_t kUnbackedGpa = 0xC0000000;  // never backed by a slot: MMIO

// GDT selectors.
inline constexpr uint16_t kKernelCs = 0x08;
inline constexpr uint16_t kKernelDs = 0x10;
inline constexpr uint16_t kUserDs = 0x18 | 3;
inline constexpr uint16_t kUserCs = 0x20 | 3;
inline constexpr uint16_t kTssSel = 0x28;

// Local APIC (xAPIC MMIO), used by interrupt payloads.
inline constexpr uint64_t kApicBase = 0xFEE00000;
inline constexpr uint64_t kApicSvr = 0xF0;
inline constexpr uint64_t kApicEoi = 0xB0;

// ---- ucall: the guest passes the GPA of a Ucall in a 32-bit OUT to kUcallPort ----
inline constexpr uint16_t kUcallPort = 0x1000;

enum class UcallCmd : uint64_t {
    Sync = 1,       // args[0] = stage value; host answers by resuming
    Done = 2,       // args[0] = result; the payload has finished
    Assert = 3,     // file, line, text: a guest-side check failed
    Log = 4,        // text: a formatted message
    Exception = 5,  // args = vector, error code, rip, cr2: unexpected exception
};

struct Ucall {
    uint64_t cmd;
    uint64_t args[4];
    uint32_t line;
    uint32_t pad;
    char file[64];
    char text[192];
};
static_assert(sizeof(Ucall) == 304);

// ---- Data pattern: the word expected at `gpa` in round `seed` (both sides compute it) ----
constexpr uint64_t pattern_word(uint64_t gpa, uint64_t seed) {
    uint64_t z = gpa * 0x9E3779B97F4A7C15ull + seed + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// ---- Control block for looping payloads, at a host-chosen GPA in the system slot ----
struct LoopControl {
    volatile uint64_t stop;    // host sets it: finish the current pass, then DONE
    volatile uint64_t passes;  // guest counts completed passes
};

}  // namespace kvmrace::abi
