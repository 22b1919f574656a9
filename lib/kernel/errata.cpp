#include "kernel/errata.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace kvmrace {

bool memslot_update_zaps_all_roots(uapi::VmType type, bool slot_zap_all, const KernelVersion& k) {
    constexpr KernelVersion kQuirkSince{6, 12, 0};
    if (k < kQuirkSince) return true;
    return type == uapi::VmType::Default && slot_zap_all;
}

namespace {

constexpr KernelVersion kPrefaultSince{6, 11, 0};  // KVM_PRE_FAULT_MEMORY first release

bool prefault_meets_deleted_or_moved_slot(const RaceFacts& f, const KernelVersion&) {
    return f.prefaults && f.deletes_or_moves;
}

bool zaps_all_roots(const RaceFacts& f, const KernelVersion& k) {
    return memslot_update_zaps_all_roots(f.vm_type, !f.slot_zap_all_off, k);
}

bool prefault_after_zap_all(const RaceFacts& f, const KernelVersion& k) {
    return f.prefaults && (f.deletes_or_moves || f.recreates) && zaps_all_roots(f, k);
}

bool prefault_during_zap_all(const RaceFacts& f, const KernelVersion& k) {
    return f.prefaults && f.deletes_or_moves && zaps_all_roots(f, k);
}

constexpr std::array kErrata{
    Erratum{"prefault-eagain",
            kPrefaultSince,
            {6, 18, 0},
            "KVM: x86/mmu: Return -EAGAIN if userspace deletes/moves memslot during prefault",
            "3ccbf6f47098",
            "",
            "KVM_PRE_FAULT_MEMORY concurrent with a delete or move of a slot it faults, any VM "
            "type",
            prefault_meets_deleted_or_moved_slot,
            "",
            "KVM_PRE_FAULT_MEMORY retries forever on the invalid slot holding kvm->srcu while the "
            "deleter waits in synchronize_srcu_expedited(): livelock until the prefault thread "
            "gets a signal",
            ""},
    Erratum{"prefault-obsolete-roots",
            kPrefaultSince,
            {6, 15, 0},
            "KVM: x86/mmu: Check and free obsolete roots in kvm_mmu_reload()",
            "20a6cff3b283",
            "",
            "KVM_PRE_FAULT_MEMORY after a delete/move on a VM whose memslot updates zap all roots "
            "(default VM with SLOT_ZAP_ALL; every VM before 6.12)",
            prefault_after_zap_all,
            "",
            "kvm_mmu_reload() keeps the obsolete root (only KVM_RUN frees it), so every later "
            "prefault sees a stale fault and retries forever",
            ""},
    Erratum{"prefault-stale-root",
            kPrefaultSince,
            {},
            "KVM: x86/mmu: Reload the root in the retry loop of kvm_tdp_map_page() (candidate, "
            "docs/bugs/prefault-stale-root/fix.patch)",
            "",
            "7.1.5",
            "KVM_PRE_FAULT_MEMORY concurrent with a delete/move on a VM whose memslot updates zap "
            "all roots (default VM with SLOT_ZAP_ALL; every VM before 6.12), whatever GPA it "
            "faults: no slot, another slot, the moved slot (any other kvm_mmu_zap_all_fast(), "
            "e.g. an nx_huge_pages toggle, does the same on every VM type)",
            prefault_during_zap_all,
            "",
            "a prefault that loaded its root before kvm_mmu_zap_all_fast() and faults a GPA "
            "outside the invalid slot retries RET_PF_RETRY forever in kvm_tdp_map_page() (no "
            "kvm_mmu_reload() in that loop) holding kvm->srcu, while the memslot update waits in "
            "synchronize_srcu_expedited(): livelock until the prefault thread gets a signal",
            "docs/bugs/prefault-stale-root/report.txt"},
    Erratum{"irqfd-unique",
            {},
            {6, 17, 0},
            "KVM: Disallow binding multiple irqfds to an eventfd with a priority waiter (series "
            "\"KVM: Make irqfd registration globally unique\")",
            "",
            "",
            "an eventfd bound to irqfds in two VMs (within one VM a second binding, on any "
            "GSI, was EBUSY before the fix too: seen on 6.14)",
            nullptr,
            "KvmIrqfd.SameEventfdOnSecondVm*",
            "an irqfd binding of an eventfd another VM already binds succeeds instead of EBUSY",
            ""},
};

}  // namespace

std::span<const Erratum> errata() { return kErrata; }

const Erratum* find_erratum(std::string_view id) {
    for (const Erratum& e : kErrata)
        if (e.id == id) return &e;
    return nullptr;
}

bool affects(const Erratum& e, const KernelVersion& k) {
    return !(k < e.introduced_in) && (e.fixed_in == KernelVersion{} || k < e.fixed_in);
}

ErrataPresence ErrataPresence::by_version(const KernelVersion& k,
                                          std::span<const std::string> assumed_fixed) {
    std::vector<std::string> present;
    for (const Erratum& e : kErrata)
        if (affects(e, k) &&
            std::find(assumed_fixed.begin(), assumed_fixed.end(), e.id) == assumed_fixed.end())
            present.emplace_back(e.id);
    return ErrataPresence(std::move(present));
}

bool ErrataPresence::has(std::string_view id) const {
    return std::find(present_.begin(), present_.end(), id) != present_.end();
}

std::vector<const Erratum*> errata_for(const RaceFacts& f, const KernelVersion& k,
                                       const ErrataPresence& present) {
    std::vector<const Erratum*> out;
    for (const Erratum& e : kErrata)
        if (e.hits && present.has(e.id) && e.hits(f, k)) out.push_back(&e);
    return out;
}

std::string skip_reason(const Erratum& e) {
    if (e.fixed_in == KernelVersion{})
        return fmt::format(
            "known bug {}, fixed in no release (seen on {}{}); --force to run, --assume-fixed={} "
            "on a patched kernel",
            e.id, e.last_seen, e.report.empty() ? "" : fmt::format(", {}", e.report), e.id);
    return fmt::format("known bug {}, fixed by \"{}\"{} in {}; --force to run", e.id, e.fix_title,
                       e.commit.empty() ? "" : fmt::format(" ({})", e.commit), e.fixed_in.str());
}

}  // namespace kvmrace
