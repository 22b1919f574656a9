// Known kernel bugs the suite can trigger. Each erratum is a predicate over what a scenario is
// (actor, mutation, VM type, quirks) and the kernel it runs on, and carries its fix as data, so a
// new scenario is covered or not by what it is. A scenario that would livelock an affected host is
// skipped there unless --force (the watchdog makes forcing safe).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/version.h"
#include "kvm/uapi.h"

namespace kvmrace {

// What a race scenario is, as far as the errata care. The race layer fills it
// (race_facts(Scenario)), so kernel knowledge does not depend on the layers above it.
struct RaceFacts {
    bool prefaults = false;         // KVM_PRE_FAULT_MEMORY is the racing call (any VM type)
    bool deletes_or_moves = false;  // the mutation deletes or moves a slot the call faults
    bool recreates = false;         // the slot is deleted and re-created between two prefaults
    uapi::VmType vm_type = uapi::VmType::Default;
    bool slot_zap_all_off = false;  // KVM_X86_QUIRK_SLOT_ZAP_ALL disabled on the VM
};

struct Erratum {
    std::string_view id;
    KernelVersion introduced_in;  // first release with the bug
    KernelVersion fixed_in;       // first release with the fix; {}: fixed in no release
    std::string_view fix_title;   // the fixing commit's subject (unfixed: the candidate fix)
    std::string_view commit;      // the fixing commit, 12 hex digits; "" while unfixed
    std::string_view last_seen;   // unfixed: the newest release it was seen on
    std::string_view condition;   // the predicate below, in words
    // Race scenarios the bug can hang or break on kernel `k` (nullptr: it affects no scenario).
    bool (*hits)(const RaceFacts& f, const KernelVersion& k);
    std::string_view tests;   // other tests it affects, GoogleTest pattern ("" for none)
    std::string_view effect;  // what an affected kernel does
    std::string_view report;  // docs/bugs/<id>/report.txt when kvmrace found it, else ""
};

std::span<const Erratum> errata();
const Erratum* find_erratum(std::string_view id);
// The release range [introduced_in, fixed_in) contains k.
bool affects(const Erratum& e, const KernelVersion& k);

// Which errata a run treats as present on its kernel. By version: the release ranges, minus what
// the user declared fixed (--assume-fixed: backports and candidate patches the version cannot
// show). A run's behaviour probes decide it otherwise (kernel/errata_decision.h).
class ErrataPresence {
public:
    ErrataPresence() = default;
    explicit ErrataPresence(std::vector<std::string> present) : present_(std::move(present)) {}
    static ErrataPresence by_version(const KernelVersion& k,
                                     std::span<const std::string> assumed_fixed = {});
    bool has(std::string_view id) const;
    const std::vector<std::string>& ids() const { return present_; }

private:
    std::vector<std::string> present_;
};

// Every erratum present on kernel k whose conditions a scenario with facts `f` meets.
std::vector<const Erratum*> errata_for(const RaceFacts& f, const KernelVersion& k,
                                       const ErrataPresence& present);
// "known bug prefault-eagain, fixed by "KVM: ..." (3ccbf6f47098) in 6.18.0; --force to run"
std::string skip_reason(const Erratum& e);

// Kernel fact the stale-root and obsolete-root bugs hinge on: a memslot delete/move zaps every
// root (kvm_mmu_zap_all_fast) on a default VM with KVM_X86_QUIRK_SLOT_ZAP_ALL, and on every VM
// type before 6.12 (which added the quirk); otherwise only the slot's mappings are zapped.
bool memslot_update_zaps_all_roots(uapi::VmType type, bool slot_zap_all, const KernelVersion& k);

}  // namespace kvmrace
