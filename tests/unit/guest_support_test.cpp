// Host-side guest support without a VM: payload images, system tables, ucall decoding, and the
// guest's own formatter (plain C++, so it runs on the host too).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "abi.h"
#include "guest/elf_image.h"
#include "guest/host_pattern.h"
#include "guest/payloads.h"
#include "guest/system_tables.h"
#include "guest/ucall.h"
#include "runtime.h"

namespace kvmrace {
namespace {

TEST(UnitPayloads, EveryEmbeddedPayloadLoadsIntoThePayloadArea) {
    for (PayloadId id : {PayloadId::Basics, PayloadId::Memory, PayloadId::Interrupts}) {
        ElfImage elf(payload_image(id));
        EXPECT_EQ(elf.entry(), abi::kPayloadBase) << payload_name(id) << ": _start comes first";
        ASSERT_FALSE(elf.segments().empty());
        for (const auto& s : elf.segments()) {
            EXPECT_GE(s.gpa, abi::kPayloadBase);
            EXPECT_LE(s.gpa + s.mem_size, abi::kPayloadLimit);
            EXPECT_GE(s.mem_size, s.bytes.size());
        }
        auto vectors = elf.symbol("__guest_vectors");
        ASSERT_TRUE(vectors) << payload_name(id);
        EXPECT_EQ(*vectors % 16, 0u);
        EXPECT_TRUE(elf.symbol("guest_main"));
        EXPECT_FALSE(elf.symbol("no_such_symbol"));
    }
}

TEST(UnitPayloads, MalformedImagesAreRejected) {
    std::vector<uint8_t> junk(64, 0);
    EXPECT_THROW(ElfImage{junk}, std::runtime_error);
    auto good = payload_image(PayloadId::Basics);
    EXPECT_THROW(ElfImage(good.subspan(0, 40)), std::runtime_error);
}

uint64_t get64(const std::vector<uint8_t>& m, uint64_t gpa) {
    uint64_t v;
    std::memcpy(&v, &m[gpa], 8);
    return v;
}

TEST(UnitSystemTables, IdentityMapGdtTssAndIdt) {
    std::vector<uint8_t> mem(abi::kSystemSlotSize);
    write_system_tables(mem, 0x101000, 2);
    EXPECT_EQ(get64(mem, abi::kPml4) & ~0xfffull, abi::kPdpt);
    // GPA 3 GiB + 6 MiB lives in the fourth page directory, entry 3, as a 2 MiB user page.
    uint64_t pde = get64(mem, abi::kPageDirs + 3 * abi::kPageSize + 3 * 8);
    EXPECT_EQ(pde & ~0xfffull, (3ull << 30) + (6ull << 20));
    EXPECT_EQ(pde & 0x87, 0x87u) << "present, writable, user, 2 MiB";
    EXPECT_EQ(get64(mem, abi::kGdt + abi::kKernelCs), 0x00AF9A000000FFFFull);
    // IDT gate 14 points at vectors + 14 * 16, through the kernel code selector.
    uint64_t lo = get64(mem, abi::kIdt + 14 * 16);
    EXPECT_EQ((lo & 0xffff) | ((lo >> 32) & 0xffff0000), 0x101000u + 14 * 16);
    EXPECT_EQ((lo >> 16) & 0xffff, abi::kKernelCs);
    // vCPU 1's TSS: RSP0 is its interrupt stack; the I/O bitmap ends in 0xff.
    uint64_t tss1 = abi::kTssBase + abi::kTssStride;
    uint64_t rsp0;
    std::memcpy(&rsp0, &mem[tss1 + 4], 8);
    EXPECT_EQ(rsp0, interrupt_stack_top(1));
    EXPECT_EQ(mem[tss1 + abi::kTssLimit], 0xff);
    EXPECT_THROW(write_system_tables(mem, 0, abi::kMaxVcpus + 1), std::invalid_argument);
}

TEST(UnitSystemTables, SegmentsForEachPrivilege) {
    kvm_sregs base{};
    kvm_sregs user = long_mode_sregs(base, Privilege::Cpl3, 1);
    EXPECT_EQ(user.cs.selector, abi::kUserCs);
    EXPECT_EQ(user.cs.dpl, 3);
    EXPECT_EQ(user.ss.dpl, 3);
    EXPECT_EQ(user.cs.l, 1);
    EXPECT_EQ(user.tr.base, abi::kTssBase + abi::kTssStride);
    EXPECT_EQ(user.efer, 0x500u);
    kvm_sregs kernel = long_mode_sregs(base, Privilege::Cpl0, 0);
    EXPECT_EQ(kernel.cs.selector, abi::kKernelCs);
    EXPECT_EQ(kernel.ss.dpl, 0);
}

TEST(UnitUcall, DecodesOnlyTheUcallPort) {
    std::vector<uint8_t> page(4096, 0);
    auto* run = reinterpret_cast<kvm_run*>(page.data());
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 4;
    run->io.count = 1;
    run->io.port = abi::kUcallPort;
    run->io.data_offset = 1024;
    uint32_t gpa = 0x41fe00;
    std::memcpy(page.data() + 1024, &gpa, 4);
    EXPECT_EQ(ucall_gpa(*run), 0x41fe00u);
    run->io.port = 0x1001;
    EXPECT_FALSE(ucall_gpa(*run));
    run->io.port = abi::kUcallPort;
    run->io.direction = KVM_EXIT_IO_IN;
    EXPECT_FALSE(ucall_gpa(*run));
}

TEST(UnitUcall, ReadsAndDescribes) {
    std::vector<uint8_t> mem(8192, 0);
    abi::Ucall uc{};
    uc.cmd = uint64_t(abi::UcallCmd::Assert);
    uc.line = 12;
    std::strcpy(uc.file, "memory.cpp");
    std::strcpy(uc.text, "pattern mismatch");
    std::memcpy(&mem[4096], &uc, sizeof uc);
    auto got = read_ucall(mem, 4096);
    ASSERT_TRUE(got);
    EXPECT_EQ(describe(*got), "ASSERT at memory.cpp:12: pattern mismatch");
    EXPECT_FALSE(read_ucall(mem, 8192 - 8)) << "a ucall reaching past the slot";
    uc.cmd = uint64_t(abi::UcallCmd::Exception);
    uc.args[0] = 14;
    uc.args[1] = 2;
    uc.args[2] = 0x101000;
    uc.args[3] = 0xdead000;
    EXPECT_EQ(describe(uc), "EXCEPTION vector=14 error=0x2 rip=0x101000 cr2=0xdead000");
}

std::string fmt_guest(const char* f, ...) {
    char buf[64];
    va_list ap;
    va_start(ap, f);
    guest::format(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

TEST(UnitGuestFormat, MatchesPrintfForWhatThePayloadsUse) {
    EXPECT_EQ(fmt_guest("%d %i %u", -42, 7, 3000000000u), "-42 7 3000000000");
    EXPECT_EQ(fmt_guest("%#lx %lx %x", 0xdeadbeefcafeull, 0ul, 255u), "0xdeadbeefcafe 0 ff");
    EXPECT_EQ(fmt_guest("%05d|%3d|%s|%c|%%", 42, 7, "ok", 'z'), "00042|  7|ok|z|%");
    EXPECT_EQ(fmt_guest("%ld", -9223372036854775807L - 1), "-9223372036854775808");
    EXPECT_EQ(fmt_guest("%p", reinterpret_cast<void*>(0x1000)), "0x1000");
}

TEST(UnitGuestFormat, TruncatesAndTerminates) {
    char buf[8];
    va_list ap{};
    int n = [&](const char* f, ...) {
        va_start(ap, f);
        int r = guest::format(buf, sizeof buf, f, ap);
        va_end(ap);
        return r;
    }("%s", "0123456789");
    EXPECT_EQ(n, 10) << "returns the untruncated length";
    EXPECT_STREQ(buf, "0123456");
}

TEST(UnitPattern, HostFillAndMismatchFindTheCorruptedWord) {
    std::vector<uint8_t> mem(4096);
    host_fill_pattern(mem.data(), 0x40000000, mem.size(), 7);
    EXPECT_EQ(host_pattern_mismatch(mem.data(), 0x40000000, mem.size(), 7), std::nullopt);
    EXPECT_EQ(host_pattern_mismatch(mem.data(), 0x40000000, mem.size(), 8), 0u) << "another seed differs at once";
    EXPECT_EQ(host_pattern_mismatch(mem.data(), 0x40001000, mem.size(), 7), 0u) << "the pattern depends on the GPA";
    mem[0x7a8 + 3] ^= 1;
    EXPECT_EQ(host_pattern_mismatch(mem.data(), 0x40000000, mem.size(), 7), 0x7a8u);
}

TEST(UnitPattern, DependsOnAddressAndSeed) {
    EXPECT_NE(abi::pattern_word(0x1000, 1), abi::pattern_word(0x1008, 1));
    EXPECT_NE(abi::pattern_word(0x1000, 1), abi::pattern_word(0x1000, 2));
    EXPECT_EQ(abi::pattern_word(0x1000, 1), abi::pattern_word(0x1000, 1));
}

}  // namespace
}  // namespace kvmrace
