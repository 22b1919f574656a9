// irqfd assign/deassign and eventfd close racing interrupt delivery to a running vCPU (the irqfd
// registration rework in the seeds). The vCPU halts with interrupts on and counts one vector in
// guest memory; each round binds an eventfd to a GSI routed to that vector, proves that a write
// is delivered, then undoes the binding (KVM_IRQFD deassign, or close of the eventfd) while a
// second thread keeps writing the eventfd and sending KVM_SIGNAL_MSI to the same vCPU. Each
// round is checked against race/irq_contract.h.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "guest/guest_vm.h"
#include "kvm/kvm_error.h"
#include "kvm/unique_fd.h"
#include "payloads/interrupts.h"
#include "race/irq_contract.h"
#include "race/race_config.h"

namespace kvmrace {

namespace {

constexpr uint32_t kGsi = 10;
constexpr uint8_t kVector = 0x40;
constexpr double kDeliveryBound_s = 1.0;
constexpr int kWritesAfterDeassign = 4;

// Fixed delivery to APIC ID 0 on kVector, edge: what the GSI is routed to and what the fences are.
kvm_msi msi_to_vcpu0() {
    kvm_msi m{};
    m.address_lo = static_cast<uint32_t>(abi::kApicBase);
    m.data = kVector;
    return m;
}

class IrqRace {
public:
    IrqRace(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board)
        : s_(s),
          cfg_(cfg),
          board_(board),
          sys_(cfg.device),
          g_(sys_, {PayloadId::Interrupts, 1, Privilege::Cpl0, true, s.vm_type}),
          counter_(g_.add_slot({1, abi::kDataBase, 0x1000, 0, Backing::Anonymous})) {
        g_.vm().route_gsi_to_msi(kGsi, kVector, abi::kApicBase);
        board_.vm().vm_type = static_cast<uint32_t>(s.vm_type);
    }

    void run() {
        g_.start(0, {kVector, ~uint64_t{0}, abi::kDataBase, 0});
        abi::Ucall ready = g_.run_to_ucall();
        if (ready.cmd != uint64_t(abi::UcallCmd::Sync) ||
            ready.args[0] != uint64_t(payload::interrupts::kReady))
            throw std::runtime_error("interrupts payload: no READY sync");
        // KVM_RUN stays in the kernel while the guest halts and takes interrupts (in-kernel
        // APIC): it is not a call the watchdog times, the rounds' own calls are.
        std::thread vcpu([&] {
            try {
                g_.run_to_done(0);
            } catch (const std::exception& e) {
                violate(std::string("vCPU: ") + e.what());
            }
            vcpu_done_ = true;
        });
        std::thread signaller([&] { signal_loop(); });
        try {
            PhaseTime loop(board_, Counter::LoopUs);
            rounds();
        } catch (const std::exception& e) {
            violate(e.what());
        }
        signal_round_.store(kDone);
        signal_round_.notify_all();
        signaller.join();
        stop_guest();
        vcpu.join();
        if (!violation_.empty()) throw std::runtime_error(violation_);
        board_.count(Counter::GuestPasses, count());
    }

private:
    static constexpr uint64_t kDone = ~uint64_t{0};

    uint64_t* words() { return reinterpret_cast<uint64_t*>(counter_.host()); }
    uint64_t count() { return std::atomic_ref<uint64_t>(words()[0]).load(); }

    void violate(std::string what) {
        bool expected = false;
        if (violated_.compare_exchange_strong(expected, true)) violation_ = std::move(what);
    }

    // The guest's count is in guest memory, which no futex covers: poll it, bounded.
    bool count_above(uint64_t c) {
        const uint64_t until = monotonic_ns() + uint64_t(kDeliveryBound_s * 1e9);
        while (count() <= c) {
            if (vcpu_done_.load() || monotonic_ns() > until) return count() > c;
            std::this_thread::yield();
        }
        return true;
    }

    void write_eventfd(int fd) {
        const uint64_t one = 1;
        if (::write(fd, &one, sizeof one) != sizeof one)
            throw KvmError("write(eventfd)", errno, fmt::format("fd {}", fd));
    }

    Errno irqfd(int fd, uint32_t flags) {
        kvm_irqfd a{};
        a.fd = static_cast<uint32_t>(fd);
        a.gsi = kGsi;
        a.flags = flags;
        InCall in(board_, slot_, Call::Other);
        return g_.vm().try_irqfd(a);
    }

    void rounds() {
        slot_ = board_.join("mutator");
        const bool deassign = s_.mutation == Mutation::IrqfdDeassign;
        const uint64_t deadline =
            cfg_.duration_s > 0 ? monotonic_ns() + uint64_t(cfg_.duration_s * 1e9) : 0;
        UniqueFd efd;
        for (uint64_t it = 0; it < cfg_.iterations && !violated_.load(); ++it) {
            if (deadline && monotonic_ns() > deadline) break;
            // Deassign rebinds the same eventfd each round; close binds a fresh one.
            if (!efd.valid()) {
                efd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
                if (!efd.valid()) throw KvmError("eventfd", errno, "");
            }
            if (Errno e = irqfd(efd.get(), 0); !e.ok())
                throw std::runtime_error(fmt::format(
                    "KVM_IRQFD assign of {} eventfd on GSI {} failed: {} [{} iteration {}]",
                    it == 0 || !deassign ? "a fresh" : "a deassigned", kGsi, e.describe(), s_.name,
                    it));
            IrqRound r;
            r.deassigned = deassign;
            const uint64_t before = count();
            write_eventfd(efd.get());
            r.write_delivered = count_above(before);

            // The race: the signaller writes the eventfd (deassign only: a closed fd is another
            // file's number) and sends MSIs while the binding is undone.
            signal_fd_.store(deassign ? efd.get() : -1);
            const uint64_t sent_before = sent_.load();
            signal_round_.store(it + 1);
            signal_round_.notify_one();
            while (sent_.load() == sent_before && !violated_.load()) asm volatile("pause");
            const uint64_t sent_at_start = sent_.load();
            {
                PhaseTime time(board_, Counter::MutateUs);
                if (deassign) {
                    if (Errno e = irqfd(efd.get(), KVM_IRQFD_FLAG_DEASSIGN); !e.ok())
                        throw KvmError("KVM_IRQFD", e.value, "deassign of an assigned irqfd");
                } else {
                    InCall in(board_, slot_, Call::Other);
                    efd.reset();
                }
            }
            board_.count(Counter::Mutations);
            board_.count(Counter::HitIterations);
            if (sent_.load() != sent_at_start) board_.count(Counter::Hits);
            signal_round_.store(0);
            while (idle_round_.load() != it + 1 && !violated_.load()) asm volatile("pause");

            r.at_mutation_end = count();
            if (deassign)  // an unbound eventfd: these must deliver nothing
                for (int k = 0; k < kWritesAfterDeassign; ++k) write_eventfd(efd.get());
            const uint64_t fence_from = count();
            {
                InCall in(board_, slot_, Call::Other);
                g_.vm().signal_msi(msi_to_vcpu0());
            }
            r.fence_delivered = count_above(fence_from);
            r.after_fence = count();
            if (std::string bad = check_irq_round(r, kDeliveryBound_s); !bad.empty()) {
                violate(fmt::format("{} [{} iteration {}]", bad, s_.name, it));
                return;
            }
            board_.count(Counter::Iterations);
        }
    }

    // Sends while a round is on; says so when it has stopped for that round.
    void signal_loop() {
        const unsigned slot = board_.join("signaller");
        const kvm_msi msi = msi_to_vcpu0();
        for (;;) {
            const uint64_t round = signal_round_.load();
            if (round == kDone) return;
            if (round == 0) {
                signal_round_.wait(0);
                continue;
            }
            try {
                for (int fd = signal_fd_.load(); signal_round_.load() == round;) {
                    if (fd >= 0) write_eventfd(fd);
                    InCall in(board_, slot, Call::Other);
                    g_.vm().signal_msi(msi);
                    sent_.fetch_add(1);
                }
            } catch (const std::exception& e) {
                violate(std::string("signaller: ") + e.what());
            }
            idle_round_.store(round);
        }
    }

    // The stop word, then MSIs until the guest has seen it (a halted guest needs a wake-up).
    void stop_guest() {
        std::atomic_ref<uint64_t>(words()[1]).store(1);
        const uint64_t until = monotonic_ns() + uint64_t(kDeliveryBound_s * 1e9);
        while (!vcpu_done_.load() && monotonic_ns() < until) {
            g_.vm().signal_msi(msi_to_vcpu0());
            std::this_thread::yield();
        }
        if (!vcpu_done_.load())
            violate(
                fmt::format("the guest did not stop within {:.1f} s of the stop word and "
                            "KVM_SIGNAL_MSI wake-ups",
                            kDeliveryBound_s));
        // Still in KVM_RUN: the join would wait forever, and the watchdog says HANG.
    }

    const Scenario& s_;
    const RaceConfig& cfg_;
    ProgressBoard& board_;
    System sys_;
    GuestVm g_;
    Memslot& counter_;  // [0] the guest's interrupt count, [1] the stop word
    unsigned slot_ = 0;
    std::atomic<uint64_t> signal_round_{0};  // iteration + 1 while the signaller sends; kDone
    std::atomic<uint64_t> idle_round_{0};    // the last round the signaller stopped for
    std::atomic<int> signal_fd_{-1};
    std::atomic<uint64_t> sent_{0};
    std::atomic<bool> vcpu_done_{false};
    std::atomic<bool> violated_{false};
    std::string violation_;  // written once, by whoever set violated_; read after the joins
};

}  // namespace

void run_irq_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board) {
    PhaseTime setup(board, Counter::SetupUs);
    IrqRace race(s, cfg, board);
    setup.stop();
    race.run();
}

}  // namespace kvmrace
