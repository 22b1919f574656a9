// The per-round contract of the irqfd races: each clause kept and broken.
#include <gtest/gtest.h>

#include "race/irq_contract.h"

namespace kvmrace {
namespace {

IrqRound deassign_round(uint64_t at_end, uint64_t after_fence) {
    IrqRound r;
    r.deassigned = true;
    r.at_mutation_end = at_end;
    r.after_fence = after_fence;
    return r;
}

TEST(UnitIrqContract, FenceAloneAndOnePendingAreAllowed) {
    EXPECT_EQ(check_irq_round(deassign_round(10, 11), 1.0), "");
    EXPECT_EQ(check_irq_round(deassign_round(10, 12), 1.0), "");
}

TEST(UnitIrqContract, DeliveryThroughADeassignedIrqfdBreaksIt) {
    EXPECT_NE(check_irq_round(deassign_round(10, 13), 1.0).find("after KVM_IRQFD deassign"),
              std::string::npos);
}

TEST(UnitIrqContract, AClosedEventfdPromisesNoSuchBound) {
    IrqRound r = deassign_round(10, 30);
    r.deassigned = false;  // close: the irqfd goes asynchronously
    EXPECT_EQ(check_irq_round(r, 1.0), "");
}

TEST(UnitIrqContract, LostInterruptsBreakIt) {
    IrqRound lost;
    lost.write_delivered = false;
    EXPECT_NE(check_irq_round(lost, 1.0).find("lost interrupt"), std::string::npos);
    IrqRound no_fence;
    no_fence.fence_delivered = false;
    EXPECT_NE(check_irq_round(no_fence, 1.0).find("KVM_SIGNAL_MSI delivered no interrupt"),
              std::string::npos);
}

}  // namespace
}  // namespace kvmrace
