#include "kernel/behaviour_changes.h"

#include <array>
#include <stdexcept>
#include <string>

namespace kvmrace {

namespace {

constexpr std::array kChanges{
    // Seed 004 (Michael Roth, "KVM: guest_memfd: Rework preparation/population flows in prep
    // for in-place conversion", v2): kvm_gmem_populate() GUPs the source before taking the
    // filemap invalidate lock, and "KVM: SEV: Document/enforce page-alignment for
    // KVM_SEV_SNP_LAUNCH_UPDATE" makes an unaligned uaddr EINVAL. v6.18.2 does not have it
    // (its snp_launch_update() checks only len); KVM_TDX_INIT_MEM_REGION has rejected unaligned
    // sources since TDX support landed (v6.16).
    BehaviourChange{"gmem-populate-aligned-source",
                    "KVM: guest_memfd: Rework preparation/population flows (series)",
                    {0, 0, 0},
                    "KVM_SEV_SNP_LAUNCH_UPDATE with a source that is not page-aligned: EINVAL"},
};

}  // namespace

std::span<const BehaviourChange> behaviour_changes() { return kChanges; }

Presence kernel_has(std::string_view id, const KernelVersion& k) {
    for (const BehaviourChange& c : kChanges) {
        if (c.id != id) continue;
        if (c.since == KernelVersion{}) return Presence::Unknown;
        return k < c.since ? Presence::No : Presence::Yes;
    }
    throw std::logic_error("unknown behaviour change " + std::string(id));
}

}  // namespace kvmrace
