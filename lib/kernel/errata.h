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
#include "race/scenario.h"

namespace kvmrace {

struct Erratum {
    std::string_view id;
    KernelVersion introduced_in;  // first release with the bug
    KernelVersion fixed_in;       // first release with the fix; {}: fixed in no release
    std::string_view fix_title;   // the fixing commit's subject (unfixed: the candidate fix)
    std::string_view commit;      // the fixing commit, 12 hex digits; "" while unfixed
    std::string_view last_seen;   // unfixed: the newest release it was seen on
    std::string_view condition;   // the predicate below, in words
    // Race scenarios the bug can hang or break on kernel `k` (nullptr: it affects no scenario).
    bool (*hits)(const Scenario& s, const KernelVersion& k);
    std::string_view tests;   // other tests it affects, GoogleTest pattern ("" for none)
    std::string_view effect;  // what an affected kernel does
    std::string_view report;  // docs/bugs/<id>/report.txt when kvmrace found it, else ""
};

std::span<const Erratum> errata();
const Erratum* find_erratum(std::string_view id);
// The release range [introduced_in, fixed_in) contains k.
bool affects(const Erratum& e, const KernelVersion& k);
// Every erratum whose conditions `s` meets on kernel k, except those the user declared fixed in
// this kernel (--assume-fixed: backports and candidate patches the version cannot show).
std::vector<const Erratum*> errata_for(const Scenario& s, const KernelVersion& k,
                                       std::span<const std::string> assumed_fixed = {});
// "known bug prefault-eagain, fixed by "KVM: ..." (3ccbf6f47098) in 6.18.0; --force to run"
std::string skip_reason(const Erratum& e);
// `kvmrace --errata`: the table against a kernel.
std::string errata_table(const KernelVersion& k, std::span<const std::string> assumed_fixed = {});

// Kernel fact the stale-root and obsolete-root bugs hinge on: a memslot delete/move zaps every
// root (kvm_mmu_zap_all_fast) on a default VM with KVM_X86_QUIRK_SLOT_ZAP_ALL, and on every VM
// type before 6.12 (which added the quirk); otherwise only the slot's mappings are zapped.
bool memslot_update_zaps_all_roots(uapi::VmType type, bool slot_zap_all, const KernelVersion& k);

}  // namespace kvmrace
