#include "race/hang_context.h"

#include <algorithm>

#include <fmt/format.h>

#include "kernel/errata.h"

namespace kvmrace {

namespace {

using SlotState = ProgressBoard::SlotState;

std::string state_text(const SlotSnapshot& s) {
    const uint64_t end = s.gpa + s.size;
    switch (s.state) {
        case SlotState::Unused: return "unused";
        case SlotState::Present:
            return s.gpa == s.home_gpa ? "present"
                                       : fmt::format("present at [{:#x}, {:#x})", s.gpa, end);
        case SlotState::Deleting: return "being deleted";
        case SlotState::Absent: return "deleted";
        case SlotState::Adding: return "being re-created";
        case SlotState::Moving:
            return fmt::format("being moved to [{:#x}, {:#x}){}", s.gpa, end,
                               s.gpa == s.home_gpa ? ", back home" : "");
    }
    return "?";
}

uint64_t overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) {
    const uint64_t lo = std::max(a, b), hi = std::min(a_end, b_end);
    return hi > lo ? hi - lo : 0;
}

}  // namespace

std::vector<SlotSnapshot> snapshot_slots(const ProgressBoard& b) {
    std::vector<SlotSnapshot> out;
    for (unsigned i = 0; i < b.slots(); ++i) {
        const auto& s = b.slot(i);
        out.push_back({s.id.load(), s.mutated.load() != 0, s.home_gpa.load(), s.size.load(),
                       s.gpa.load(), static_cast<SlotState>(s.state.load())});
    }
    return out;
}

std::string locate_range(uint64_t gpa, uint64_t size, std::span<const SlotSnapshot> slots) {
    const uint64_t end = gpa + size;
    std::string out;
    uint64_t placed = 0;
    auto add = [&](std::string clause) { out += (out.empty() ? "" : "; ") + clause; };
    for (const SlotSnapshot& s : slots) {
        const uint64_t home = overlap(gpa, end, s.home_gpa, s.home_gpa + s.size);
        // A slot moved elsewhere may still cover part of the range from its new place.
        const bool elsewhere =
            s.gpa != s.home_gpa && (s.state == SlotState::Present || s.state == SlotState::Moving);
        const uint64_t there = elsewhere ? overlap(gpa, end, s.gpa, s.gpa + s.size) : 0;
        if (!home && !there) continue;
        placed += std::max(home, there);
        add(fmt::format("{:#x} bytes inside {} slot {} ({})", std::max(home, there),
                        s.mutated ? "the mutated" : "the untouched", s.id, state_text(s)));
    }
    if (placed < size) add(fmt::format("{:#x} bytes in no slot", size - placed));
    return fmt::format("[{:#x}, {:#x}): {}", gpa, end, out);
}

std::string describe_race_hang(const Scenario& s, const ProgressBoard& b, const KernelVersion& k,
                               std::span<const std::string> assumed_fixed) {
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
    for (const SlotSnapshot& sl : slots)
        out += fmt::format("slot {} home [{:#x}, {:#x}){}: {}\n", sl.id, sl.home_gpa,
                           sl.home_gpa + sl.size, sl.mutated ? ", mutated" : "", state_text(sl));
    for (unsigned i = 0; i < b.threads(); ++i) {
        const auto& t = b.thread(i);
        if (static_cast<Call>(t.call.load()) != Call::PreFault) continue;
        out += fmt::format("{} in-flight KVM_PRE_FAULT_MEMORY {}\n", t.role,
                           locate_range(t.arg_gpa.load(), t.arg_size.load(), slots));
    }
    const auto matching = errata_for(s, k, assumed_fixed);
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
