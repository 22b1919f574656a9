#include "guest/system_tables.h"

#include <cstring>
#include <stdexcept>

#include "abi.h"

namespace kvmrace {

namespace {

using namespace abi;

constexpr uint64_t kPresent = 1, kWritable = 2, kUser = 4, kHuge = 0x80;

void put64(std::span<uint8_t> mem, uint64_t gpa, uint64_t v) { std::memcpy(&mem[gpa], &v, 8); }

kvm_segment segment(uint16_t selector, uint8_t type, bool code, unsigned dpl) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xFFFFFFFF;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = static_cast<uint8_t>(dpl);
    s.db = code ? 0 : 1;
    s.s = 1;
    s.l = code ? 1 : 0;
    s.g = 1;
    return s;
}

}  // namespace

uint64_t stack_top(unsigned i) { return kStacksBase + (2 * i + 1) * kStackSize; }
uint64_t interrupt_stack_top(unsigned i) { return kStacksBase + (2 * i + 2) * kStackSize; }

void write_system_tables(std::span<uint8_t> mem, uint64_t vectors_gpa, unsigned vcpus) {
    if (mem.size() < kSystemSlotSize) throw std::invalid_argument("system slot too small");
    if (vcpus > kMaxVcpus) throw std::invalid_argument("too many vCPUs for the guest layout");
    // 4 GiB identity map with 2 MiB pages, user-accessible so CPL3 payloads can touch any of it.
    put64(mem, kPml4, kPdpt | kPresent | kWritable | kUser);
    for (uint64_t g = 0; g < 4; ++g) {
        uint64_t pd = kPageDirs + g * kPageSize;
        put64(mem, kPdpt + g * 8, pd | kPresent | kWritable | kUser);
        for (uint64_t e = 0; e < 512; ++e)
            put64(mem, pd + e * 8, ((g << 30) + (e << 21)) | kPresent | kWritable | kUser | kHuge);
    }
    // GDT: null, kernel code, kernel data, user data, user code, TSS (16 bytes).
    put64(mem, kGdt + 0x00, 0);
    put64(mem, kGdt + 0x08, 0x00AF9A000000FFFFull);
    put64(mem, kGdt + 0x10, 0x00CF92000000FFFFull);
    put64(mem, kGdt + 0x18, 0x00CFF2000000FFFFull);
    put64(mem, kGdt + 0x20, 0x00AFFA000000FFFFull);
    const uint64_t tss0 = kTssBase;
    put64(mem, kGdt + 0x28,
          (kTssLimit & 0xFFFF) | ((tss0 & 0xFFFFFF) << 16) | (0x89ull << 40) |
              ((kTssLimit >> 16 & 0xF) << 48) | ((tss0 >> 24 & 0xFF) << 56));
    put64(mem, kGdt + 0x30, tss0 >> 32);
    // One TSS per vCPU: RSP0 for interrupts taken at CPL3, and an I/O bitmap that allows every
    // port: this machine's PVM KVM checks the bitmap for CPL3 port I/O even with IOPL=3.
    for (unsigned i = 0; i < vcpus; ++i) {
        uint64_t tss = kTssBase + i * kTssStride;
        std::memset(&mem[tss], 0, kTssStride);
        mem[tss + kTssLimit] = 0xFF;
        uint64_t rsp0 = interrupt_stack_top(i);
        std::memcpy(&mem[tss + 4], &rsp0, 8);
        uint16_t iomap = 104;
        std::memcpy(&mem[tss + 102], &iomap, 2);
    }
    // IDT: 64-bit interrupt gates to the payload's vector stubs.
    for (uint64_t v = 0; v < 256; ++v) {
        uint64_t h = vectors_gpa + v * 16;
        uint64_t lo = (h & 0xFFFF) | (uint64_t(kKernelCs) << 16) | (0x8Eull << 40) |
                      ((h >> 16 & 0xFFFF) << 48);
        put64(mem, kIdt + v * 16, lo);
        put64(mem, kIdt + v * 16 + 8, h >> 32);
    }
}

kvm_sregs long_mode_sregs(const kvm_sregs& base, Privilege cpl, unsigned vcpu_index) {
    kvm_sregs s = base;
    const bool user = cpl == Privilege::Cpl3;
    const unsigned dpl = user ? 3 : 0;
    s.cs = segment(user ? kUserCs : kKernelCs, 0xB, true, dpl);
    kvm_segment data = segment(user ? kUserDs : kKernelDs, 0x3, false, dpl);
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = kvm_segment{};
    s.tr.base = kTssBase + vcpu_index * kTssStride;
    s.tr.limit = kTssLimit;
    s.tr.selector = kTssSel;
    s.tr.type = 0xB;  // busy 64-bit TSS
    s.tr.present = 1;
    s.ldt = kvm_segment{};
    s.ldt.unusable = 1;
    s.gdt.base = kGdt;
    s.gdt.limit = 0x37;
    s.idt.base = kIdt;
    s.idt.limit = 256 * 16 - 1;
    s.cr0 = 0x80050033;  // PG WP AM NE ET MP PE
    s.cr3 = kPml4;
    s.cr4 = 0x620;   // OSXMMEXCPT OSFXSR PAE
    s.efer = 0x500;  // LMA LME
    return s;
}

}  // namespace kvmrace
