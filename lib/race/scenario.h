// A race scenario: which ioctl races (the actor) against which change (the mutation), on which
// VM type and backing, with how many vCPUs. The catalog is the list `kvmrace --list` shows.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "kernel/errata.h"
#include "kvm/memslot.h"
#include "kvm/uapi.h"

namespace kvmrace {

// Populate (KVM_SEV_SNP_LAUNCH_UPDATE / KVM_TDX_INIT_MEM_REGION) and CocoPrefault (prefault on a
// SEV/SNP/TDX VM after LAUNCH_FINISH / FINALIZE_VM) are driven by race/coco_race.cpp.
// Irq: interrupt delivery to a halted/running vCPU (irqfd, KVM_SIGNAL_MSI), race/irq_race.cpp.
enum class Actor { Prefault, Run, Populate, CocoPrefault, Irq };

enum class Mutation {
    Delete,          // delete the slot, re-create it
    MoveAway,        // move the slot 1 GiB up, move it back
    MoveCovering,    // move the slot 2 MiB down: its new range still covers the prefaulted GPAs
    DirtyLogToggle,  // KVM_MEM_LOG_DIRTY_PAGES on, off (flags only: no invalidation)
    PunchHole,       // fallocate(PUNCH_HOLE) of the guest_memfd range
    DeleteSecond,    // two adjacent slots, the range spans both; delete/re-create the second
    DeleteInMany,    // 16 adjacent 256 KiB slots, the range spans them; delete/re-create one
    Recreate,        // no concurrency: prefault, delete + re-create, prefault again
    Madvise,         // MADV_DONTNEED on the host memory (mmu notifier, data kept: shared memfd)
    Remap,           // mmap(MAP_FIXED) over the host memory (mmu notifier, data kept)
    Mprotect,        // mprotect(PROT_READ) then back to read-write (mmu notifier, data kept)
    DirtyLogGet,     // KVM_GET_DIRTY_LOG of a slot with dirty logging on (write-protects it)
    AttrToggle,      // KVM_SET_MEMORY_ATTRIBUTES private -> shared -> private over the range
    DirtyLogClear,  // KVM_GET_DIRTY_LOG then KVM_CLEAR_DIRTY_LOG (manual protect) of a logging slot
    IrqfdDeassign,  // KVM_IRQFD deassign of a bound eventfd while it is written (Irq actor)
    EventfdClose,   // close of a bound eventfd: the irqfd goes on EPOLLHUP (Irq actor)
    // No concurrency: prefault before LAUNCH_FINISH / FINALIZE_VM.
    BeforeLaunchFinish,
    // No concurrency: populate from a source that is not page-aligned.
    UnalignedSource,
};

enum class RaceBacking { Anonymous, Thp, GuestMemfdShared, GuestMemfdPrivate, MemfdShared };

struct Scenario {
    std::string_view name;  // unique, GoogleTest-safe
    Actor actor;
    Mutation mutation;
    uapi::VmType vm_type;
    RaceBacking backing;
    unsigned vcpus;
    bool disjoint_ranges;  // multi-vCPU prefault: each vCPU its own part (else all overlap)
    std::string_view description;
    // VM option: KVM_X86_QUIRK_SLOT_ZAP_ALL disabled (KVM_CAP_DISABLE_QUIRKS2), so a delete/move
    // zaps only the slot's mappings instead of making every root obsolete.
    bool slot_zap_all_off = false;
};

std::span<const Scenario> scenario_catalog();
std::string_view mutation_name(Mutation m);
std::string_view backing_name(RaceBacking b);
// The memslot backing a RaceBacking uses for its host side (private guest_memfd has none).
Backing slot_backing(RaceBacking b);

// Mutations that delete or move the slot: the only ones for which KVM_PRE_FAULT_MEMORY may
// answer EAGAIN (v6.18+), and which a v6.18+ kernel must answer with EAGAIN at least once.
bool invalidates_slot(Mutation m);
// What the errata read of a scenario (kernel/errata.h sits below this layer).
RaceFacts race_facts(const Scenario& s);
// "default VM" / "default VM, SLOT_ZAP_ALL off" / "SW_PROTECTED VM": what --list and reports say.
std::string vm_description(const Scenario& s);

}  // namespace kvmrace
