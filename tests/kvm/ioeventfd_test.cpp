// ioeventfd: a matching guest write completes in the kernel and signals the eventfd with no exit
// to userspace; a non-matching one exits; a duplicate registration is EEXIST.
#include <sys/eventfd.h>

#include "guest/guest_vm.h"
#include "kvm_test.h"
#include "payloads/basics.h"

namespace kvmrace::test {
namespace {

using namespace payload::basics;

class KvmIoeventfd : public KvmTest {
protected:
    void SetUp() override {
        KvmTest::SetUp();
        if (IsSkipped()) return;
        KVMRACE_REQUIRE_CAP(system(), KVM_CAP_IOEVENTFD);
        efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        ASSERT_TRUE(efd_.valid());
    }
    kvm_ioeventfd spec(uint64_t addr, uint32_t len, uint64_t datamatch, uint32_t flags) const {
        kvm_ioeventfd a{};
        a.addr = addr;
        a.len = len;
        a.datamatch = datamatch;
        a.fd = efd_.get();
        a.flags = flags | KVM_IOEVENTFD_FLAG_DATAMATCH;
        return a;
    }
    uint64_t signals() const {
        uint64_t v = 0;
        return ::read(efd_.get(), &v, sizeof v) == sizeof v ? v : 0;
    }
    UniqueFd efd_;
};

TEST_F(KvmIoeventfd, PioDatamatchSignalsWithoutExit) {
    GuestVm g(system(), {PayloadId::Basics, 1, Privilege::Cpl3});
    ASSERT_TRUE(g.vm().try_ioeventfd(spec(0x2000, 4, 0x1234, KVM_IOEVENTFD_FLAG_PIO)).ok());
    g.start(0, {kPortWrite, 0x2000, 0x1234, 0});
    EXPECT_EQ(g.run_to_done(), 0u) << "the matching OUT must not exit to userspace";
    EXPECT_EQ(signals(), 1u);
    g.start(0, {kPortWrite, 0x2000, 0x9999, 0});
    GuestExit e = g.run();
    ASSERT_EQ(e.reason, ExitReason::Io) << g.describe_exit();
    EXPECT_EQ(g.vcpu().run_state().io.port, 0x2000);
    EXPECT_EQ(signals(), 0u) << "a non-matching write must not signal";
}

TEST_F(KvmIoeventfd, MmioDatamatchSignalsWithoutExit) {
    GuestVm g(system(), {PayloadId::Basics, 1, Privilege::Cpl3});
    const uint64_t gpa = abi::kUnbackedGpa + 0x3000;
    ASSERT_TRUE(g.vm().try_ioeventfd(spec(gpa, 8, 0xabcdef, 0)).ok());
    g.start(0, {kMmioWrite, gpa, 0xabcdef, 0});
    EXPECT_EQ(g.run_to_done(), 0u);
    EXPECT_EQ(signals(), 1u);
}

TEST_F(KvmIoeventfd, DuplicateRegistrationIsEexist) {
    Vm vm = system().create_vm();
    ASSERT_TRUE(vm.try_ioeventfd(spec(0x2000, 4, 1, KVM_IOEVENTFD_FLAG_PIO)).ok());
    EXPECT_EQ(vm.try_ioeventfd(spec(0x2000, 4, 1, KVM_IOEVENTFD_FLAG_PIO)), EEXIST);
}

}  // namespace
}  // namespace kvmrace::test
