#include <fmt/format.h>

#include "kvm/capability.h"
#include "kvm/system.h"
#include "kvm/vm.h"
#include "race/coco_race.h"
#include "race/race_config.h"

namespace kvmrace {

std::string scenario_skip_reason(const Scenario& s, const System& sys) {
    if (is_coco_scenario(s)) return coco_scenario_skip_reason(s, sys);
    if (s.actor == Actor::Prefault) {
        int cap = sys.check_extension(uapi::kCapPreFaultMemory);
        if (cap == 0) return capability_reason(uapi::kCapPreFaultMemory, cap);
    }
    if (s.actor == Actor::Irq)
        for (int cap : {KVM_CAP_IRQCHIP, KVM_CAP_IRQFD, KVM_CAP_IRQ_ROUTING, uapi::kCapSignalMsi})
            if (int has = sys.check_extension(cap); has <= 0) return capability_reason(cap, has);
    if (s.mutation == Mutation::DirtyLogClear) {
        const int manual = sys.check_extension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
        if (!(manual & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
            return capability_reason(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, manual);
    }
    if (s.slot_zap_all_off) {
        const int quirks = sys.check_extension(uapi::kCapDisableQuirks2);
        if (!(quirks > 0 && (uint64_t(quirks) & uapi::kQuirkSlotZapAll)))
            return capability_reason(uapi::kCapDisableQuirks2, quirks) +
                   ": KVM_X86_QUIRK_SLOT_ZAP_ALL (bit 7) cannot be disabled (added in 6.12)";
    }
    const auto type = static_cast<unsigned long>(s.vm_type);
    if (!(sys.vm_types() & (1ul << type)))
        return fmt::format("{}: VM type {} unavailable",
                           capability_reason(uapi::kCapVmTypes, int(sys.vm_types())), type);
    const bool gmem =
        s.backing == RaceBacking::GuestMemfdShared || s.backing == RaceBacking::GuestMemfdPrivate;
    if (gmem) {
        Vm vm = sys.create_vm(s.vm_type);
        int has = vm.check_extension(uapi::kCapGuestMemfd);
        if (!has) return capability_reason(uapi::kCapGuestMemfd, has);
        if (s.backing == RaceBacking::GuestMemfdShared) {
            int flags = vm.check_extension(uapi::kCapGuestMemfdFlags);
            if ((flags & 3) != 3)
                return capability_reason(uapi::kCapGuestMemfdFlags, flags) +
                       ", need MMAP|INIT_SHARED";
        } else {
            int attrs = vm.check_extension(uapi::kCapMemoryAttributes);
            if (!(attrs & uapi::kMemoryAttributePrivate))
                return capability_reason(uapi::kCapMemoryAttributes, attrs) + ", need PRIVATE";
        }
    }
    return "";
}

void run_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board) {
    System sys(cfg.device);
    if (std::string why = scenario_skip_reason(s, sys); !why.empty()) {
        board.finish(ChildVerdict::Skip, why);
        return;
    }
    switch (s.actor) {
        case Actor::Prefault: run_prefault_scenario(s, cfg, board); break;
        case Actor::Run: run_kvm_run_scenario(s, cfg, board); break;
        case Actor::Irq: run_irq_scenario(s, cfg, board); break;
        case Actor::Populate:
        case Actor::CocoPrefault: run_coco_scenario(s, cfg, board); break;
    }
}

}  // namespace kvmrace
