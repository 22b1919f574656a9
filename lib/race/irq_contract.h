// The contract of one round of an irqfd race (race/irq_race.cpp), as a pure function of the
// guest's interrupt count at the round's checkpoints (unit-tested).
#pragma once

#include <cstdint>
#include <string>

namespace kvmrace {

// What the guest's interrupt count (it counts one vector) showed in one round.
struct IrqRound {
    // Liveness: an eventfd write on the freshly assigned irqfd, with nothing else sending.
    bool write_delivered = true;
    // After the mutation and once the signalling thread is idle: the count then, and once a
    // KVM_SIGNAL_MSI fence sent after the extra writes (if any) was counted.
    uint64_t at_mutation_end = 0;
    uint64_t after_fence = 0;
    bool fence_delivered = true;
    // KVM_IRQFD deassign promises no interrupt from that eventfd once it returns (virt/kvm/
    // eventfd.c flushes the injection work before returning); closing the eventfd promises none:
    // the irqfd goes away asynchronously, on EPOLLHUP.
    bool deassigned = false;
};

// Most interrupts the count may grow by between at_mutation_end and after_fence: one still
// pending in the APIC's IRR from before, plus the fence.
inline constexpr uint64_t kIrqAfterDeassignAllowance = 2;

// "" when the round kept the contract, else the clause it broke.
std::string check_irq_round(const IrqRound& r, double bound_s);

}  // namespace kvmrace
