#include "payloads/interrupts.h"

#include "runtime.h"

using namespace kvmrace::payload::interrupts;
using kvmrace::abi::kApicBase;

namespace {

volatile uint64_t received;
volatile uint64_t* counter;  // [0] the count, [1] the host's stop word; null: not published

void on_interrupt(guest::InterruptFrame*) {
    received = received + 1;
    if (counter) counter[0] = received;
    guest::write32(kApicBase + kvmrace::abi::kApicEoi, 0);
}

}  // namespace

extern "C" uint64_t guest_main(uint64_t vector, uint64_t expected, uint64_t counter_gpa, uint64_t) {
    counter = reinterpret_cast<volatile uint64_t*>(counter_gpa);
    GUEST_ASSERT(guest::current_cpl() == 0, "interrupt payload needs CPL0");
    guest::set_interrupt_handler(static_cast<uint8_t>(vector), on_interrupt);
    // Software-enable the APIC (SVR bit 8) with spurious vector 0xff.
    guest::write32(kApicBase + kvmrace::abi::kApicSvr, 0x1ff);
    guest::sync(kReady);
    while (received < expected && !(counter && counter[1]))
        asm volatile("sti; hlt; cli" ::: "memory");
    return received;
}
