// Protocol of the "interrupts" payload (runs at CPL0): the local APIC is enabled, the guest
// halts with interrupts on, and counts what arrives on one vector.
#pragma once

#include <stdint.h>

namespace kvmrace::payload::interrupts {

enum Stage : uint64_t {
    kReady = 1,  // SYNC: handler installed, APIC enabled; the guest halts next
};

// guest_main(vector, expected, counter_gpa): wait (halted) until `expected` interrupts arrived
// on `vector`; DONE(count). With counter_gpa != 0 the handler also stores the count at
// counter_gpa (for a host that watches it while the guest runs), and the guest stops waiting,
// DONE(count), once the host has set the word after it (counter_gpa + 8) and an interrupt woke
// it.

}  // namespace kvmrace::payload::interrupts
