#include "race/irq_contract.h"

#include <fmt/format.h>

namespace kvmrace {

std::string check_irq_round(const IrqRound& r, double bound_s) {
    if (!r.write_delivered)
        return fmt::format(
            "an eventfd write on an assigned irqfd delivered no interrupt within {:.1f} s "
            "(a lost interrupt)",
            bound_s);
    if (!r.fence_delivered)
        return fmt::format("KVM_SIGNAL_MSI delivered no interrupt within {:.1f} s", bound_s);
    if (r.deassigned && r.after_fence - r.at_mutation_end > kIrqAfterDeassignAllowance)
        return fmt::format(
            "{} interrupts arrived after KVM_IRQFD deassign returned and the eventfd was written "
            "again; at most {} may (one pending from before, the fence)",
            r.after_fence - r.at_mutation_end, kIrqAfterDeassignAllowance);
    return "";
}

}  // namespace kvmrace
