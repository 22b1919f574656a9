// The x86-64 structures a payload needs before its first instruction: identity page tables,
// GDT, per-vCPU TSS, IDT, and the long-mode segment/control register state.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>

namespace kvmrace {

enum class Privilege { Cpl0, Cpl3 };

// Writes page tables, GDT, TSSes and an IDT whose 256 gates point at vectors + 16*n into the
// system slot memory (which starts at GPA 0).
void write_system_tables(std::span<uint8_t> system_slot, uint64_t vectors_gpa, unsigned vcpus);

// Long mode at the requested privilege, on top of the vCPU's current sregs (APIC base etc.).
kvm_sregs long_mode_sregs(const kvm_sregs& base, Privilege cpl, unsigned vcpu_index);

// Guest stack tops for a vCPU: the payload's stack, and the interrupt (TSS.RSP0) stack.
uint64_t stack_top(unsigned vcpu_index);
uint64_t interrupt_stack_top(unsigned vcpu_index);

}  // namespace kvmrace
