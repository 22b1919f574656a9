#include "race/scenario.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "kvm/capability.h"

namespace kvmrace {

namespace {

using enum Actor;
using enum Mutation;
using enum RaceBacking;
constexpr auto kDefault = uapi::VmType::Default;
constexpr auto kSwProtected = uapi::VmType::SwProtected;
constexpr auto kSev = uapi::VmType::Sev;
constexpr auto kSevEs = uapi::VmType::SevEs;
constexpr auto kSnp = uapi::VmType::Snp;
constexpr auto kTdx = uapi::VmType::Tdx;

constexpr std::array kCatalog{
    Scenario{"PrefaultVsDelete_Anon", Prefault, Delete, kDefault, Anonymous, 1, false,
             "KVM_PRE_FAULT_MEMORY vs delete + re-create of the slot being prefaulted"},
    Scenario{"PrefaultVsDelete_Thp", Prefault, Delete, kDefault, Thp, 1, false,
             "same, THP-backed slot (2 MiB mappings)"},
    Scenario{"PrefaultVsDelete_GmemShared", Prefault, Delete, kDefault, GuestMemfdShared, 1, false,
             "same, guest_memfd (MMAP|INIT_SHARED) slot"},
    Scenario{"PrefaultVsDelete_GmemPrivate", Prefault, Delete, kSwProtected, GuestMemfdPrivate, 1,
             false, "same, SW_PROTECTED VM, private guest_memfd memory"},
    Scenario{"PrefaultVsMoveAway_Anon", Prefault, MoveAway, kDefault, Anonymous, 1, false,
             "prefault vs moving the slot away from the GPA and back"},
    Scenario{"PrefaultVsMoveAway_Thp", Prefault, MoveAway, kDefault, Thp, 1, false,
             "same, THP-backed slot"},
    Scenario{"PrefaultVsMoveCovering_Anon", Prefault, MoveCovering, kDefault, Anonymous, 1, false,
             "prefault vs a move whose new range still covers the GPA (ENOENT would be wrong)"},
    Scenario{"PrefaultVsMoveCovering_Thp", Prefault, MoveCovering, kDefault, Thp, 1, false,
             "same, THP-backed slot"},
    Scenario{"PrefaultVsDirtyLogToggle_Anon", Prefault, DirtyLogToggle, kDefault, Anonymous, 1,
             false,
             "prefault vs dirty-log flag toggles (no EAGAIN allowed: nothing is invalidated)"},
    Scenario{"PrefaultVsPunchHole_GmemShared", Prefault, PunchHole, kDefault, GuestMemfdShared, 1,
             false, "prefault vs PUNCH_HOLE of the guest_memfd range"},
    Scenario{"PrefaultVsPunchHole_GmemPrivate", Prefault, PunchHole, kSwProtected,
             GuestMemfdPrivate, 1, false, "same, private guest_memfd memory"},
    Scenario{"PrefaultSpanningTwoSlotsVsDelete_Anon", Prefault, DeleteSecond, kDefault, Anonymous,
             1, false, "prefault of a range spanning two slots while the second goes away"},
    Scenario{"PrefaultFourVcpusOverlappingVsDelete_Anon", Prefault, Delete, kDefault, Anonymous, 4,
             false, "four vCPUs prefault the same range while the slot is deleted and re-created"},
    Scenario{"PrefaultFourVcpusDisjointVsMoveAway_Anon", Prefault, MoveAway, kDefault, Anonymous, 4,
             true, "four vCPUs prefault their own quarter while the slot moves away and back"},
    Scenario{"PrefaultAfterRecreate_Anon", Prefault, Recreate, kDefault, Anonymous, 1, false,
             "prefault after the slot was deleted and re-created must complete (obsolete roots)"},
    Scenario{"PrefaultAfterRecreate_GmemShared", Prefault, Recreate, kDefault, GuestMemfdShared, 1,
             false, "same, guest_memfd slot"},
    Scenario{"RunVsDelete_Anon", Run, Delete, kDefault, Anonymous, 2, true,
             "two vCPUs fill+verify their part of the slot while it is deleted and re-created"},
    Scenario{"RunVsDelete_Thp", Run, Delete, kDefault, Thp, 2, true, "same, THP-backed slot"},
    Scenario{"RunVsDelete_GmemShared", Run, Delete, kDefault, GuestMemfdShared, 2, true,
             "same, guest_memfd slot"},
    Scenario{"RunVsMoveAway_Anon", Run, MoveAway, kDefault, Anonymous, 2, true,
             "two vCPUs fill+verify while the slot moves away and back"},
    Scenario{"RunVsMadvise_MemfdShared", Run, Madvise, kDefault, MemfdShared, 2, true,
             "two vCPUs fill+verify while the host memory is MADV_DONTNEEDed (mmu notifier)"},
    Scenario{"RunVsRemap_MemfdShared", Run, Remap, kDefault, MemfdShared, 2, true,
             "two vCPUs fill+verify while the host memory is re-mmapped in place (mmu notifier)"},
    Scenario{
        "RunVsMprotect_MemfdShared", Run, Mprotect, kDefault, MemfdShared, 2, true,
        "two vCPUs fill+verify while the host memory turns read-only and back (EFAULT only then)"},
    Scenario{
        "RunVsDelete_SwProtectedAnon", Run, Delete, kSwProtected, Anonymous, 2, true,
        "two vCPUs of a SW_PROTECTED VM fill+verify shared memory while the slot is re-created"},
    Scenario{"RunVsDirtyLogGet_Anon", Run, DirtyLogGet, kDefault, Anonymous, 2, true,
             "two vCPUs fill+verify a logging slot while KVM_GET_DIRTY_LOG collects it: a pass "
             "between two collections is dirty in the later one, every page"},
    Scenario{"RunVsDirtyLogClear_Anon", Run, DirtyLogClear, kDefault, Anonymous, 2, true,
             "same with manual protect: KVM_GET_DIRTY_LOG then KVM_CLEAR_DIRTY_LOG of what it "
             "reported"},
    Scenario{"IrqVsIrqfdDeassign", Irq, IrqfdDeassign, kDefault, Anonymous, 1, false,
             "a halted vCPU takes eventfd and MSI interrupts while the irqfd is deassigned and "
             "rebound (nothing may arrive through it once deassign returned)"},
    Scenario{"IrqVsEventfdClose", Irq, EventfdClose, kDefault, Anonymous, 1, false,
             "a halted vCPU takes MSI interrupts while its bound eventfd is closed; a fresh "
             "eventfd binds to the same GSI and delivers"},
    Scenario{"PrefaultVsDelete_SwProtectedAnon", Prefault, Delete, kSwProtected, Anonymous, 1,
             false, "prefault vs delete + re-create, SW_PROTECTED VM, shared (anonymous) memory"},
    // The A/B for the stale-root livelock: the same delete/move races on default VMs whose
    // memslot updates zap only the slot (no obsolete roots). They must pass on 6.18+.
    Scenario{"PrefaultVsDelete_AnonNoZapAll", Prefault, Delete, kDefault, Anonymous, 1, false,
             "prefault vs delete + re-create, SLOT_ZAP_ALL quirk off (only the slot is zapped)",
             true},
    Scenario{"PrefaultVsMoveAway_AnonNoZapAll", Prefault, MoveAway, kDefault, Anonymous, 1, false,
             "prefault vs moving the slot away and back, SLOT_ZAP_ALL quirk off", true},
    Scenario{"PrefaultVsMoveCovering_AnonNoZapAll", Prefault, MoveCovering, kDefault, Anonymous, 1,
             false, "prefault vs a move that still covers the GPA, SLOT_ZAP_ALL quirk off", true},
    Scenario{"PrefaultSpanningTwoSlotsVsDelete_AnonNoZapAll", Prefault, DeleteSecond, kDefault,
             Anonymous, 1, false,
             "prefault spanning two slots while the second goes away, SLOT_ZAP_ALL quirk off",
             true},
    Scenario{"PrefaultFourVcpusOverlappingVsDelete_AnonNoZapAll", Prefault, Delete, kDefault,
             Anonymous, 4, false,
             "four vCPUs prefault one range while the slot is re-created, SLOT_ZAP_ALL quirk off",
             true},
    // Confidential VMs (race/coco_race.cpp): SNP and TDX memory is private guest_memfd.
    Scenario{"CocoPrefaultVsDelete_Snp", CocoPrefault, Delete, kSnp, GuestMemfdPrivate, 1, false,
             "SNP VM after LAUNCH_FINISH: prefault vs delete + re-create (one memslot is zapped)"},
    Scenario{"CocoPrefaultVsMoveAway_Snp", CocoPrefault, MoveAway, kSnp, GuestMemfdPrivate, 1,
             false,
             "same, moving the slot away and back (SKIP where guest_memfd slots can't move)"},
    Scenario{"CocoPrefaultVsDelete_Tdx", CocoPrefault, Delete, kTdx, GuestMemfdPrivate, 1, false,
             "TD after FINALIZE_VM: prefault vs delete + re-create"},
    Scenario{"CocoPrefaultVsMoveAway_Tdx", CocoPrefault, MoveAway, kTdx, GuestMemfdPrivate, 1,
             false, "same, moving the slot away and back"},
    Scenario{"CocoPrefaultVsDelete_Sev", CocoPrefault, Delete, kSev, Anonymous, 1, false,
             "SEV VM after LAUNCH_FINISH: prefault vs delete + re-create"},
    Scenario{"CocoPrefaultVsDelete_SevEs", CocoPrefault, Delete, kSevEs, Anonymous, 1, false,
             "SEV-ES VM after LAUNCH_FINISH: prefault vs delete + re-create"},
    Scenario{"CocoPrefaultBeforeFinish_Snp", CocoPrefault, BeforeLaunchFinish, kSnp,
             GuestMemfdPrivate, 1, false,
             "prefault before SNP_LAUNCH_FINISH is EOPNOTSUPP, after it maps the range"},
    Scenario{"CocoPrefaultBeforeFinish_Tdx", CocoPrefault, BeforeLaunchFinish, kTdx,
             GuestMemfdPrivate, 1, false,
             "prefault before TDX_FINALIZE_VM is EOPNOTSUPP, after it maps the range"},
    Scenario{"CocoPrefaultBeforeFinish_Sev", CocoPrefault, BeforeLaunchFinish, kSev, Anonymous, 1,
             false, "SEV VMs allow prefault from creation: before LAUNCH_FINISH it maps the range"},
    Scenario{"PopulateVsDelete_Snp", Populate, Delete, kSnp, GuestMemfdPrivate, 1, false,
             "SNP_LAUNCH_UPDATE vs delete + re-create of its slot (slots_lock serializes them)"},
    Scenario{"PopulateVsPunchHole_Snp", Populate, PunchHole, kSnp, GuestMemfdPrivate, 1, false,
             "SNP_LAUNCH_UPDATE vs PUNCH_HOLE of the range it populates"},
    Scenario{"PopulateVsDelete_Tdx", Populate, Delete, kTdx, GuestMemfdPrivate, 1, false,
             "TDX_INIT_MEM_REGION vs delete + re-create; FINALIZE_VM proves nothing was left "
             "half-populated"},
    Scenario{"PopulateVsPunchHole_Tdx", Populate, PunchHole, kTdx, GuestMemfdPrivate, 1, false,
             "TDX_INIT_MEM_REGION vs PUNCH_HOLE of the range it populates"},
    Scenario{"PopulateUnalignedSource_Snp", Populate, UnalignedSource, kSnp, GuestMemfdPrivate, 1,
             false, "SNP_LAUNCH_UPDATE from an unaligned source: EINVAL with seed 004's rework"},
    Scenario{"PopulateUnalignedSource_Tdx", Populate, UnalignedSource, kTdx, GuestMemfdPrivate, 1,
             false, "TDX_INIT_MEM_REGION from an unaligned source: EINVAL"},
};

}  // namespace

std::span<const Scenario> scenario_catalog() { return kCatalog; }

std::string_view mutation_name(Mutation m) {
    switch (m) {
        case Delete: return "delete";
        case MoveAway: return "move-away";
        case MoveCovering: return "move-covering";
        case DirtyLogToggle: return "dirty-log-toggle";
        case PunchHole: return "punch-hole";
        case DeleteSecond: return "delete-second-slot";
        case DeleteInMany: return "delete-one-of-many";
        case Recreate: return "recreate";
        case Madvise: return "madvise";
        case Remap: return "remap";
        case Mprotect: return "mprotect";
        case DirtyLogGet: return "dirty-log-get";
        case AttrToggle: return "attr-toggle";
        case DirtyLogClear: return "dirty-log-clear";
        case IrqfdDeassign: return "irqfd-deassign";
        case EventfdClose: return "eventfd-close";
        case BeforeLaunchFinish: return "before-launch-finish";
        case UnalignedSource: return "unaligned-source";
    }
    return "?";
}

std::string_view backing_name(RaceBacking b) {
    switch (b) {
        case Anonymous: return "anon";
        case Thp: return "thp";
        case GuestMemfdShared: return "gmem-shared";
        case GuestMemfdPrivate: return "gmem-private";
        case MemfdShared: return "memfd-shared";
    }
    return "?";
}

Backing slot_backing(RaceBacking b) {
    switch (b) {
        case Anonymous: return Backing::Anonymous;
        case Thp: return Backing::Thp;
        case GuestMemfdShared: return Backing::GuestMemfdShared;
        case GuestMemfdPrivate: return Backing::Anonymous;  // shared half; private is the gmem
        case MemfdShared: return Backing::MemfdShared;
    }
    return Backing::Anonymous;
}

std::string vm_description(const Scenario& s) {
    if (s.vm_type == uapi::VmType::Default)
        return s.slot_zap_all_off ? "default VM, SLOT_ZAP_ALL off" : "default VM";
    return fmt::format("{} VM", vm_type_name(s.vm_type));
}

bool invalidates_slot(Mutation m) {
    return m == Delete || m == MoveAway || m == MoveCovering || m == DeleteSecond ||
           m == DeleteInMany;
}

RaceFacts race_facts(const Scenario& s) {
    RaceFacts f;
    // KVM_PRE_FAULT_MEMORY is the racing call, on any VM type (confidential VMs after launch).
    f.prefaults = s.actor == Actor::Prefault || s.actor == Actor::CocoPrefault;
    f.deletes_or_moves = invalidates_slot(s.mutation);
    f.recreates = s.mutation == Mutation::Recreate;
    f.vm_type = s.vm_type;
    f.slot_zap_all_off = s.slot_zap_all_off;
    return f;
}

}  // namespace kvmrace
