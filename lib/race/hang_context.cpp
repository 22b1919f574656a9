#include "race/hang_context.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "kernel/errata.h"

namespace kvmrace {

namespace {

using SlotState = ProgressBoard::SlotState;

uint64_t overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) {
    const uint64_t lo = std::max(a, b), hi = std::min(a_end, b_end);
    return hi > lo ? hi - lo : 0;
}

std::string range_text(uint64_t gpa, uint64_t size) {
    return fmt::format("[{:#x}, {:#x})", gpa, gpa + size);
}

// Where a slot is (or is still, while it changes), as intervals with what to say of each.
struct Place {
    uint64_t gpa;
    std::string what;
};
std::vector<Place> places(const SlotSnapshot& s) {
    switch (s.state) {
        case SlotState::Unused:
        case SlotState::Absent: return {};
        case SlotState::Present:
            if (s.gpa == s.home_gpa) return {{s.gpa, "present"}};
            return {{s.gpa, "present at " + range_text(s.gpa, s.size) + ", away from its home"}};
        case SlotState::Deleting: return {{s.gpa, "being deleted: INVALID, then gone"}};
        case SlotState::Adding: return {{s.gpa, "being re-created"}};
        case SlotState::Moving: {
            // Which of the two moves: away from home, or the return move back home.
            const std::string to =
                s.gpa == s.home_gpa
                    ? "back home to " + range_text(s.gpa, s.size) + " (the return move)"
                : s.from_gpa == s.home_gpa
                    ? "away from its home to " + range_text(s.gpa, s.size) + " (the move away)"
                    : "to " + range_text(s.gpa, s.size);
            return {
                {s.from_gpa, "its old place, being moved " + to + ": INVALID, then gone"},
                {s.gpa, "its new place, being moved there from " + range_text(s.from_gpa, s.size)}};
        }
    }
    return {};
}

}  // namespace

std::vector<SlotSnapshot> snapshot_slots(const ProgressBoard& b) {
    std::vector<SlotSnapshot> out;
    for (unsigned i = 0; i < b.slots(); ++i) {
        const auto& s = b.slot(i);
        const auto state = static_cast<SlotState>(s.state.load());  // first: see the writer
        out.push_back({s.id.load(), s.mutated.load() != 0, s.home_gpa.load(), s.size.load(),
                       s.gpa.load(), s.from_gpa.load(), state});
    }
    return out;
}

std::string locate_range(uint64_t gpa, uint64_t size, std::span<const SlotSnapshot> slots) {
    const uint64_t end = gpa + size;
    std::string out;
    std::vector<std::pair<uint64_t, uint64_t>> covered;
    auto add = [&](std::string clause) { out += (out.empty() ? "" : "; ") + clause; };
    for (const SlotSnapshot& s : slots)
        for (const Place& p : places(s)) {
            const uint64_t n = overlap(gpa, end, p.gpa, p.gpa + s.size);
            if (!n) continue;
            covered.emplace_back(std::max(gpa, p.gpa), std::min(end, p.gpa + s.size));
            add(fmt::format("{:#x} bytes inside {} slot {} ({})", n,
                            s.mutated ? "the mutated" : "the untouched", s.id, p.what));
        }
    // Bytes in no slot: the range minus the union of what the places cover.
    std::sort(covered.begin(), covered.end());
    uint64_t in_slots = 0, reach = gpa;
    for (auto [lo, hi] : covered) {
        lo = std::max(lo, reach);
        if (hi > lo) in_slots += hi - lo, reach = hi;
    }
    if (in_slots < size) add(fmt::format("{:#x} bytes in no slot", size - in_slots));
    return range_text(gpa, size) + ": " + out;
}

std::string describe_race_hang(const Scenario& s, const ProgressBoard& b, const KernelVersion& k,
                               const ErrataPresence& present) {
    std::string out;
    const auto type = static_cast<uapi::VmType>(b.vm().vm_type.load());
    const auto quirk = static_cast<ProgressBoard::Quirk>(b.vm().slot_zap_all.load());
    const bool quirk_on = quirk != ProgressBoard::Quirk::Off;
    out += fmt::format(
        "VM: {} (type {}), KVM_X86_QUIRK_SLOT_ZAP_ALL {}: a memslot delete/move on "
        "this kernel zaps {}\n",
        vm_description(s), static_cast<unsigned long>(type),
        quirk == ProgressBoard::Quirk::Unknown ? "unknown (assumed on)"
        : quirk_on                             ? "on"
                                               : "off",
        memslot_update_zaps_all_roots(type, quirk_on, k) ? "every root (kvm_mmu_zap_all_fast)"
                                                         : "only the slot (kvm_mmu_zap_memslot)");
    const auto slots = snapshot_slots(b);
    for (const SlotSnapshot& sl : slots) {
        std::string now;
        for (const Place& p : places(sl)) now += (now.empty() ? "" : "; ") + p.what;
        out += fmt::format("slot {} home {}{}: {}\n", sl.id, range_text(sl.home_gpa, sl.size),
                           sl.mutated ? ", mutated" : "", now.empty() ? "deleted" : now);
    }
    for (unsigned i = 0; i < b.threads(); ++i) {
        const auto& t = b.thread(i);
        if (static_cast<Call>(t.call.load()) != Call::PreFault) continue;
        out += fmt::format("{} in-flight KVM_PRE_FAULT_MEMORY {}\n", t.role,
                           locate_range(t.arg_gpa.load(), t.arg_size.load(), slots));
    }
    const auto matching = errata_for(race_facts(s), k, present);
    if (matching.empty())
        out +=
            fmt::format("no known bug's conditions match ({} on {})\n", vm_description(s), k.str());
    for (const Erratum* e : matching)
        out += fmt::format(
            "matches known bug {} ({}): {}\n", e->id,
            e->fixed_in == KernelVersion{} ? "unfixed" : "fixed in " + e->fixed_in.str(),
            e->condition);
    return out;
}

}  // namespace kvmrace
