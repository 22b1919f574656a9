#include "payloads/interrupts.h"

#include "runtime.h"

using namespace kvmrace::payload::interrupts;
using kvmrace::abi::kApicBase;

namespace {

volatile uint64_t received;

void on_interrupt(guest::InterruptFrame*) {
    received = received + 1;
    guest::write32(kApicBase + kvmrace::abi::kApicEoi, 0);
}

}  // namespace

extern "C" uint64_t guest_main(uint64_t vector, uint64_t expected, uint64_t, uint64_t) {
    GUEST_ASSERT(guest::current_cpl() == 0, "interrupt payload needs CPL0");
    guest::set_interrupt_handler(static_cast<uint8_t>(vector), on_interrupt);
    // Software-enable the APIC (SVR bit 8) with spurious vector 0xff.
    guest::write32(kApicBase + kvmrace::abi::kApicSvr, 0x1ff);
    guest::sync(kReady);
    while (received < expected) asm volatile("sti; hlt; cli" ::: "memory");
    return received;
}
