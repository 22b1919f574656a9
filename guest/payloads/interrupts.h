// Protocol of the "interrupts" payload (runs at CPL0): the local APIC is enabled, the guest
// halts with interrupts on, and counts what arrives on one vector.
#pragma once

#include <stdint.h>

namespace kvmrace::payload::interrupts {

enum Stage : uint64_t {
    kReady = 1,  // SYNC: handler installed, APIC enabled; the guest halts next
};

// guest_main(vector, expected): wait (halted) until `expected` interrupts arrived on `vector`;
// DONE(count).

}  // namespace kvmrace::payload::interrupts
