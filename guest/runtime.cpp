#include "runtime.h"

namespace guest {

namespace {

void send(Ucall& uc) {
    // The host reads the Ucall from guest memory while this vCPU is stopped at the OUT.
    outl(kvmrace::abi::kUcallPort, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&uc)));
}

void copy_str(char* dst, size_t size, const char* src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < size; ++i) dst[i] = src[i];
    dst[i] = 0;
}

InterruptHandler handlers[256];

}  // namespace

void sync(uint64_t value) {
    Ucall uc{};
    uc.cmd = static_cast<uint64_t>(UcallCmd::Sync);
    uc.args[0] = value;
    send(uc);
}

void done(uint64_t result) {
    Ucall uc{};
    uc.cmd = static_cast<uint64_t>(UcallCmd::Done);
    uc.args[0] = result;
    for (;;) send(uc);  // the host never resumes a finished payload; if it does, say it again
}

void log(const char* fmt, ...) {
    Ucall uc{};
    uc.cmd = static_cast<uint64_t>(UcallCmd::Log);
    va_list ap;
    va_start(ap, fmt);
    format(uc.text, sizeof uc.text, fmt, ap);
    va_end(ap);
    send(uc);
}

void assert_fail(const char* file, int line, const char* fmt, ...) {
    Ucall uc{};
    uc.cmd = static_cast<uint64_t>(UcallCmd::Assert);
    uc.line = static_cast<uint32_t>(line);
    copy_str(uc.file, sizeof uc.file, file);
    va_list ap;
    va_start(ap, fmt);
    format(uc.text, sizeof uc.text, fmt, ap);
    va_end(ap);
    for (;;) send(uc);
}

void fill_pattern(uint64_t gpa, uint64_t size, uint64_t seed) {
    for (uint64_t a = gpa; a < gpa + size; a += 8) write64(a, kvmrace::abi::pattern_word(a, seed));
}

void verify_pattern(uint64_t gpa, uint64_t size, uint64_t seed) {
    for (uint64_t a = gpa; a < gpa + size; a += 8) {
        uint64_t want = kvmrace::abi::pattern_word(a, seed);
        uint64_t got = read64(a);
        GUEST_ASSERT(got == want, "pattern mismatch at gpa %#lx: got %#lx want %#lx (seed %lu)", a,
                     got, want, seed);
    }
}

void set_interrupt_handler(uint8_t vector, InterruptHandler h) { handlers[vector] = h; }

}  // namespace guest

// Called by the vector stubs in start.S with the saved register frame (at CPL0).
extern "C" void guest_interrupt(guest::InterruptFrame* f) {
    if (auto h = guest::handlers[f->vector & 0xff]) {
        h(f);
        return;
    }
    uint64_t cr2;
    asm volatile("mov %%cr2, %0" : "=r"(cr2));
    guest::Ucall uc{};
    uc.cmd = static_cast<uint64_t>(guest::UcallCmd::Exception);
    uc.args[0] = f->vector;
    uc.args[1] = f->error_code;
    uc.args[2] = f->rip;
    uc.args[3] = cr2;
    for (;;)
        guest::outl(kvmrace::abi::kUcallPort,
                    static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&uc)));
}

// The compiler may emit calls to these for struct copies and zeroing.
extern "C" void* memset(void* d, int c, size_t n) {
    auto* p = static_cast<volatile unsigned char*>(d);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(c);
    return d;
}
extern "C" void* memcpy(void* d, const void* s, size_t n) {
    auto* dp = static_cast<volatile unsigned char*>(d);
    auto* sp = static_cast<const unsigned char*>(s);
    for (size_t i = 0; i < n; ++i) dp[i] = sp[i];
    return d;
}
