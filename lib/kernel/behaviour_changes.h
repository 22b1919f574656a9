// Intended changes of KVM's user-visible behaviour (not bugs: see errata.h) that a test's
// expectation depends on, gated by the first release that has them, errata-style.
#pragma once

#include <span>
#include <string_view>

#include "kernel/version.h"

namespace kvmrace {

struct BehaviourChange {
    std::string_view id;
    std::string_view title;  // the series or commit that makes the change
    KernelVersion since;     // first release with it; {0,0,0}: in no release kvmrace knows
    std::string_view effect;
};

enum class Presence { Yes, No, Unknown };

std::span<const BehaviourChange> behaviour_changes();
// Yes on kernels >= since; Unknown where `since` is not known (both outcomes are accepted then,
// and recorded); No before it. Unknown ids throw std::logic_error.
Presence kernel_has(std::string_view id, const KernelVersion& k);

}  // namespace kvmrace
