#include "kernel/errata.h"

#include <array>

#include <fmt/format.h>

#include "cli/test_filter.h"

namespace kvmrace {

namespace {

constexpr std::array kErrata{
    Erratum{
        "prefault-eagain",
        "KVM: x86/mmu: Return -EAGAIN if userspace deletes/moves memslot during prefault",
        "",
        {6, 18, 0},
        "PrefaultVsDelete_*:PrefaultVsMove*:PrefaultSpanningTwoSlots*:PrefaultFourVcpus*",
        "KVM_PRE_FAULT_MEMORY retries forever on the invalid slot holding kvm->srcu while the "
        "deleter "
        "waits in synchronize_srcu_expedited(): livelock until the prefault thread gets a signal"},
    Erratum{"prefault-obsolete-roots",
            "KVM: x86/mmu: Check and free obsolete roots in kvm_mmu_reload()",
            "",
            {6, 18, 0},
            "PrefaultAfterRecreate_*",
            "after a memslot delete/re-create, prefault keeps the obsolete root (only KVM_RUN "
            "frees it) and "
            "retries forever"},
    // Found by kvmrace on 6.18.2 (PrefaultVsMoveAway: prefault in state R for 30 s, the mover in
    // __synchronize_srcu; a signal frees both). A delete/move zaps all roots between its two
    // synchronize_srcu(); a prefault that loaded its root before the zap and then faults a GPA
    // outside the invalid slot sees a stale fault forever: kvm_tdp_map_page() retries without
    // kvm_mmu_reload(), holding SRCU, and the memslot update waits on it.
    Erratum{"prefault-stale-root",
            "none known",
            "",
            {0, 0, 0},
            "PrefaultVsMoveAway_*:PrefaultFourVcpus*:PrefaultSpanningTwoSlots*",
            "KVM_PRE_FAULT_MEMORY spins on RET_PF_RETRY with a root made obsolete by a concurrent "
            "memslot "
            "delete/move (no-slot GPA or another slot) while the memslot update waits in "
            "synchronize_srcu: "
            "livelock until the prefault thread gets a signal (seen on 6.18.2)"},
    Erratum{"irqfd-unique",
            "KVM: Make irqfd registration globally unique (series)",
            "",
            {6, 17, 0},
            "KvmIrqfd.SameEventfdOnSecond*",
            "a second irqfd binding of one eventfd (another GSI or VM) succeeds instead of EBUSY"},
};

}  // namespace

std::span<const Erratum> errata() { return kErrata; }

bool affects(const Erratum& e, const KernelVersion& k) {
    return e.fixed_in == KernelVersion{} || k < e.fixed_in;
}

std::optional<Erratum> erratum_for(std::string_view scenario, const KernelVersion& k) {
    for (const Erratum& e : kErrata)
        if (affects(e, k) && filter_matches(e.scenarios, scenario)) return e;
    return std::nullopt;
}

std::string skip_reason(const Erratum& e) {
    if (e.fixed_in == KernelVersion{})
        return fmt::format(
            "known bug {}, not fixed in any release kvmrace knows ({}); --force to run", e.id,
            e.effect.substr(0, e.effect.find(':')));
    return fmt::format("known bug {}, fixed by \"{}\"{} in {}; --force to run", e.id, e.fix_title,
                       e.commit.empty() ? "" : fmt::format(" ({})", e.commit), e.fixed_in.str());
}

std::string errata_table(const KernelVersion& k) {
    std::string out = fmt::format("kernel {}\n{:<26} {:<9} {:<10} {}\n", k.str(), "erratum",
                                  "fixed in", "here", "fix / scenarios");
    for (const Erratum& e : kErrata)
        out += fmt::format("{:<26} {:<9} {:<10} {}\n{:<47} scenarios: {}\n{:<47} unfixed: {}\n",
                           e.id, e.fixed_in == KernelVersion{} ? "-" : e.fixed_in.str(),
                           affects(e, k) ? "AFFECTED" : "fixed", e.fix_title, "", e.scenarios, "",
                           e.effect);
    return out;
}

}  // namespace kvmrace
