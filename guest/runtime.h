// Freestanding guest runtime: ucalls to the host, formatted text, port and MMIO access, pattern
// helpers. No libc, no exceptions; every payload links it.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

namespace guest {

using kvmrace::abi::Ucall;
using kvmrace::abi::UcallCmd;

void sync(uint64_t value);
[[noreturn]] void done(uint64_t result);
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void assert_fail(const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// A small vsnprintf: %d %i %u %x %p %s %c %%, with l/ll/z length and 0/width for numbers.
int format(char* buf, size_t size, const char* fmt, va_list ap);

inline void outl(uint16_t port, uint32_t value) {
    asm volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}
inline uint64_t read64(uint64_t gpa) { return *reinterpret_cast<volatile uint64_t*>(gpa); }
inline void write64(uint64_t gpa, uint64_t v) { *reinterpret_cast<volatile uint64_t*>(gpa) = v; }
inline void write32(uint64_t gpa, uint32_t v) { *reinterpret_cast<volatile uint32_t*>(gpa) = v; }
inline unsigned current_cpl() {
    uint16_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    return cs & 3;
}

// Write the pattern for `seed` to every 8-byte word of [gpa, gpa+size).
void fill_pattern(uint64_t gpa, uint64_t size, uint64_t seed);
// Check it; on the first mismatch, report it with an ASSERT ucall.
void verify_pattern(uint64_t gpa, uint64_t size, uint64_t seed);

// Interrupts (CPL0 payloads): handlers by vector, called from the vector stubs.
struct InterruptFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code, rip, cs, rflags, rsp, ss;
};
using InterruptHandler = void (*)(InterruptFrame*);
void set_interrupt_handler(uint8_t vector, InterruptHandler h);

}  // namespace guest

#define GUEST_ASSERT(cond, ...)                                                \
    do {                                                                       \
        if (!(cond)) ::guest::assert_fail(__FILE__, __LINE__, "" __VA_ARGS__); \
    } while (0)

// Every payload defines this; the host passes up to four arguments in rdi, rsi, rdx, rcx and
// the return value becomes the DONE ucall's result.
extern "C" uint64_t guest_main(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
