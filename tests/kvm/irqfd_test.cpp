// irqfd: an eventfd may back one irqfd in the whole system (v6.17+; within one VM always), it can
// be rebound after a deassign, and an interrupt sent through it wakes a halted guest.
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <atomic>
#include <thread>

#include "cli/run_context.h"
#include "guest/guest_vm.h"
#include "kernel/version.h"
#include "kvm/stats.h"
#include "kvm_test.h"
#include "payloads/interrupts.h"

namespace kvmrace::test {
namespace {

constexpr KernelVersion kIrqfdUniqueSince{6, 17, 0};

class KvmIrqfd : public KvmTest {
protected:
    void SetUp() override {
        KvmTest::SetUp();
        if (IsSkipped()) return;
        KVMRACE_REQUIRE_CAP(system(), KVM_CAP_IRQFD);
        efd_.reset(::eventfd(0, EFD_CLOEXEC));
        ASSERT_TRUE(efd_.valid());
    }
    Vm vm_with_irqchip() {
        Vm vm = system().create_vm();
        vm.create_irqchip();
        return vm;
    }
    kvm_irqfd irqfd(uint32_t gsi, uint32_t flags = 0) const {
        kvm_irqfd a{};
        a.fd = static_cast<uint32_t>(efd_.get());
        a.gsi = gsi;
        a.flags = flags;
        return a;
    }
    // The run decided whether this kernel has the uniqueness (the irqfd-unique erratum: by its
    // probe, else by version; backports carry it under older versions).
    void require_unique_irqfd() {
        const RunContext& ctx = run_context();
        if (!ctx.errata.has("irqfd-unique")) return;
        const ErratumDecision* d = find_decision(ctx.errata_decisions, "irqfd-unique");
        const std::string how = d ? d->why : "--errata-from";
        GTEST_SKIP() << "known bug irqfd-unique: irqfd uniqueness across VMs (Linux "
                     << kIrqfdUniqueSince.str() << "+) is missing on "
                     << KernelVersion::running().str() << " (" << how << ")";
    }
    UniqueFd efd_;
};

TEST_F(KvmIrqfd, SameEventfdSameGsiTwiceIsEbusy) {
    Vm vm = vm_with_irqchip();
    ASSERT_TRUE(vm.try_irqfd(irqfd(5)).ok());
    EXPECT_EQ(vm.try_irqfd(irqfd(5)), EBUSY);
}

TEST_F(KvmIrqfd, SameEventfdOnSecondGsiIsEbusy) {
    // Within one VM this was EBUSY before the global uniqueness too (6.14 answers it).
    Vm vm = vm_with_irqchip();
    ASSERT_TRUE(vm.try_irqfd(irqfd(5)).ok());
    EXPECT_EQ(vm.try_irqfd(irqfd(6)), EBUSY);
}

TEST_F(KvmIrqfd, SameEventfdOnSecondVmIsEbusy) {
    require_unique_irqfd();
    if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
    Vm a = vm_with_irqchip();
    Vm b = vm_with_irqchip();
    ASSERT_TRUE(a.try_irqfd(irqfd(5)).ok());
    EXPECT_EQ(b.try_irqfd(irqfd(5)), EBUSY);
}

TEST_F(KvmIrqfd, RebindAfterDeassignWorks) {
    Vm a = vm_with_irqchip();
    Vm b = vm_with_irqchip();
    ASSERT_TRUE(a.try_irqfd(irqfd(5)).ok());
    ASSERT_TRUE(a.try_irqfd(irqfd(5, KVM_IRQFD_FLAG_DEASSIGN)).ok());
    // Deassign flushes the irqfd cleanup work before returning, so the eventfd is free at once.
    EXPECT_TRUE(b.try_irqfd(irqfd(7)).ok());
    EXPECT_TRUE(b.try_irqfd(irqfd(7, KVM_IRQFD_FLAG_DEASSIGN)).ok());
    EXPECT_TRUE(a.try_irqfd(irqfd(5)).ok());
}

TEST_F(KvmIrqfd, DeassignOfUnboundEventfdIsANoOp) {
    Vm vm = vm_with_irqchip();
    EXPECT_TRUE(vm.try_irqfd(irqfd(5, KVM_IRQFD_FLAG_DEASSIGN)).ok());
}

TEST_F(KvmIrqfd, FdThatIsNotAnEventfdIsEinval) {
    Vm vm = vm_with_irqchip();
    UniqueFd memfd(::memfd_create("kvmrace-not-eventfd", MFD_CLOEXEC));
    kvm_irqfd a = irqfd(5);
    a.fd = static_cast<uint32_t>(memfd.get());
    EXPECT_EQ(vm.try_irqfd(a), EINVAL);
}

TEST_F(KvmIrqfd, InterruptWakesHaltedGuest) {
    constexpr uint32_t kGsi = 10;
    constexpr uint8_t kVector = 0x40;
    GuestVm g(system(), {PayloadId::Interrupts, 1, Privilege::Cpl0, true});
    g.vm().route_gsi_to_msi(kGsi, kVector, abi::kApicBase);
    ASSERT_TRUE(g.vm().try_irqfd(irqfd(kGsi)).ok());

    g.start(0, {kVector, 1, 0, 0});
    abi::Ucall ready = g.run_to_ucall();
    ASSERT_EQ(ready.cmd, uint64_t(abi::UcallCmd::Sync));
    ASSERT_EQ(ready.args[0], uint64_t(payload::interrupts::kReady));

    // Signal only once the vCPU is blocked in HLT (the binary stat "blocking" says so), so the
    // interrupt has to wake a halted vCPU rather than meet a running one.
    Stats stats(g.vcpu().stats_fd());
    ASSERT_TRUE(stats.has("blocking") && stats.has("halt_wakeup"))
        << "vCPU stats lack blocking/halt_wakeup";
    const uint64_t wakeups_before = *stats.read("halt_wakeup");
    std::atomic<bool> done{false};
    std::atomic<bool> saw_blocking{false};
    std::thread signaller([&] {
        while (!done.load()) {
            if (*stats.read("blocking") == 1) {
                saw_blocking = true;
                uint64_t one = 1;
                (void)!::write(efd_.get(), &one, sizeof one);
                return;
            }
            std::this_thread::yield();
        }
    });
    uint64_t received = 0;
    try {
        received = g.run_to_done();
    } catch (...) {
        done = true;
        signaller.join();
        throw;
    }
    done = true;
    signaller.join();
    EXPECT_TRUE(saw_blocking.load());
    EXPECT_EQ(received, 1u);
    EXPECT_GT(*stats.read("halt_wakeup"), wakeups_before);
}

}  // namespace
}  // namespace kvmrace::test
