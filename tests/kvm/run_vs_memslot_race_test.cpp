// KVM_RUN racing memslot delete/re-add and move/move-back of the slot the guest is filling and
// verifying. KVM must keep its in-kernel retry working: no hang, only MMIO exits inside the
// slot's range while it is gone, and every word the guest wrote is there after each re-add.
#include <atomic>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "guest/guest_vm.h"
#include "guest/ucall.h"
#include "kvm_test.h"
#include "payloads/memory.h"

namespace kvmrace::test {
namespace {

constexpr uint64_t kSlotBytes = 16 * abi::kPageSize;
constexpr uint64_t kMovedBase = abi::kDataBase + (1ull << 30);
constexpr uint64_t kControl = abi::kScratchBase;

enum class Mutation { DeleteReAdd, MoveAway };

struct RunRaceCase {
    const char* name;
    Mutation mutation;
    Backing backing;
};

class KvmRunVsMemslot : public KvmTest, public testing::WithParamInterface<RunRaceCase> {};

TEST_P(KvmRunVsMemslot, NoHangNoStrayMmioNoLostData) {
    const RunRaceCase& c = GetParam();
    if (c.backing == Backing::GuestMemfdShared) {
        int flags = system().check_extension(uapi::kCapGuestMemfdFlags);
        if ((flags & 3) != 3) GTEST_SKIP() << cap_reason(uapi::kCapGuestMemfdFlags, flags);
    }
    GuestVm g(system(), {PayloadId::Memory, 1, Privilege::Cpl3});
    Memslot& slot = g.add_slot({1, abi::kDataBase, kSlotBytes, 0, c.backing});
    auto* ctl = g.system_object<abi::LoopControl>(kControl);
    const uint64_t iterations = run_context().iterations(1000, 20000);

    std::atomic<bool> vcpu_finished{false};
    std::atomic<uint64_t> mutations{0};
    std::string mutator_error;
    g.start(0, {payload::memory::kChurn, abi::kDataBase, kSlotBytes, kControl});
    auto started = std::chrono::steady_clock::now();
    std::thread mutator([&] {
        try {
            for (uint64_t i = 0; i < iterations && !vcpu_finished.load(); ++i) {
                if (c.mutation == Mutation::DeleteReAdd) {
                    slot.remove();
                    slot.add();
                } else {
                    slot.move(kMovedBase);
                    slot.move(abi::kDataBase);
                }
                mutations.fetch_add(1, std::memory_order_relaxed);
            }
        } catch (const std::exception& e) {
            mutator_error = e.what();
        }
        __atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);  // the guest ends after this pass
    });

    uint64_t mmio_in_slot = 0, passes = 0;
    std::string failure;
    try {
        for (;;) {
            GuestExit e = g.run();
            if (e.reason == ExitReason::Mmio) {
                // The slot is gone (deleted or moved away): serve the access from its memory,
                // as a VMM would, so the guest's view stays that of the slot.
                kvm_run& run = g.vcpu().run_state();
                uint64_t gpa = run.mmio.phys_addr;
                if (gpa < abi::kDataBase || gpa + run.mmio.len > abi::kDataBase + kSlotBytes) {
                    failure = "MMIO exit outside the mutated slot: " + g.describe_exit();
                    break;
                }
                uint8_t* host = slot.host() + (gpa - abi::kDataBase);
                if (run.mmio.is_write)
                    std::memcpy(host, run.mmio.data, run.mmio.len);
                else
                    std::memcpy(run.mmio.data, host, run.mmio.len);
                ++mmio_in_slot;
            } else if (e.is(abi::UcallCmd::Sync)) {
                passes = e.ucall->args[0];
            } else if (e.is(abi::UcallCmd::Done)) {
                passes = e.ucall->args[0];
                break;
            } else {
                failure = e.ucall ? describe(*e.ucall) : "unexpected exit " + g.describe_exit();
                break;
            }
        }
    } catch (const std::exception& e) {
        failure = e.what();
    }
    vcpu_finished = true;
    mutator.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    RecordProperty("mutations", std::to_string(mutations.load()));
    RecordProperty("guest_passes", std::to_string(passes));
    RecordProperty("mmio_exits_in_slot", std::to_string(mmio_in_slot));
    RecordProperty("mutations_per_s", std::to_string(static_cast<uint64_t>(mutations / seconds)));
    ASSERT_EQ(failure, "");
    ASSERT_EQ(mutator_error, "");
    EXPECT_EQ(mutations.load(), iterations);
    EXPECT_GE(passes, 1u);
    // The last pass filled the slot with seed == passes and verified it; the host must see it.
    for (uint64_t off = 0; off < kSlotBytes; off += 8) {
        uint64_t v;
        std::memcpy(&v, slot.host() + off, 8);
        ASSERT_EQ(v, abi::pattern_word(abi::kDataBase + off, passes)) << "word at offset " << off;
    }
}

INSTANTIATE_TEST_SUITE_P(
    , KvmRunVsMemslot,
    testing::Values(RunRaceCase{"DeleteAnonymous", Mutation::DeleteReAdd, Backing::Anonymous},
                    RunRaceCase{"DeleteThp", Mutation::DeleteReAdd, Backing::Thp},
                    RunRaceCase{"DeleteGuestMemfd", Mutation::DeleteReAdd,
                                Backing::GuestMemfdShared},
                    RunRaceCase{"MoveAnonymous", Mutation::MoveAway, Backing::Anonymous},
                    RunRaceCase{"MoveThp", Mutation::MoveAway, Backing::Thp}),
    [](const testing::TestParamInfo<RunRaceCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace kvmrace::test
