// KVM_RUN racing memslot changes and mmu-notifier invalidations: each vCPU fills and verifies its
// own part of one slot at CPL3 while a mutator changes the slot or its host memory. KVM must keep
// its in-kernel retry working: no hang, MMIO exits only while the slot is gone (and only inside
// it), and no word the guest wrote may be lost.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "guest/ucall.h"
#include "kvm/kvm_error.h"
#include "payloads/memory.h"
#include "race/prefault_contract.h"
#include "race/race_config.h"
#include "race/schedule.h"
#include "race/vcpu_fault.h"

namespace kvmrace {

namespace {

constexpr uint64_t kPartBytes = 16 * abi::kPageSize;
constexpr uint64_t kBase = abi::kDataBase;

class RunRace {
public:
    RunRace(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board)
        : s_(s),
          cfg_(cfg),
          board_(board),
          sys_(cfg.device),
          g_(sys_, {PayloadId::Memory, s.vcpus, Privilege::Cpl3, false, s.vm_type}),
          slot_(g_.add_slot({1, kBase, kPartBytes * s.vcpus, 0, slot_backing(s.backing)})) {
        if (s.slot_zap_all_off)
            g_.vm().enable_cap(uapi::kCapDisableQuirks2, uapi::kQuirkSlotZapAll);
        if (s.mutation == Mutation::DirtyLogClear)
            g_.vm().enable_cap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
                               KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
        if (logs_dirty()) {
            slot_.set_flags(uapi::kMemLogDirtyPages);
            last_collected_ = monotonic_ns();  // logging starts: the first log covers from here
        }
    }

    void run() {
        std::vector<std::thread> threads;
        for (unsigned i = 0; i < s_.vcpus; ++i) {
            g_.system_object<abi::LoopControl>(control(i))->stop = 0;
            g_.start(i, {payload::memory::kChurn, kBase + i * kPartBytes, kPartBytes, control(i)});
            threads.emplace_back([this, i] { vcpu_loop(i); });
        }
        mutator();
        for (auto& t : threads) t.join();
        if (!failure_.empty()) throw std::runtime_error(failure_);
        if (!platform_fault_.empty()) {
            // The faulted vCPU has nothing to judge; the others' last passes still must hold.
            for (unsigned i = 0; i < s_.vcpus; ++i)
                if (i != faulted_vcpu_ && last_pass_[i].load() != 0) check_last_pass(i);
            return board_.finish(
                ChildVerdict::Skip,
                fmt::format("not judged: an emulation fault of the platform after {} mutations: "
                            "{}. Judge this row on hardware virtualization",
                            board_.counter(Counter::Mutations), platform_fault_));
        }
        for (unsigned i = 0; i < s_.vcpus; ++i) check_last_pass(i);
    }

private:
    static uint64_t control(unsigned i) { return abi::kScratchBase + i * 64; }
    bool logs_dirty() const {
        return s_.mutation == Mutation::DirtyLogGet || s_.mutation == Mutation::DirtyLogClear;
    }
    bool slot_can_vanish() const {
        return s_.mutation == Mutation::Delete || s_.mutation == Mutation::MoveAway;
    }

    void fail(std::string what) {
        std::lock_guard lock(mu_);
        if (failure_.empty()) failure_ = std::move(what);
        stop_ = true;
    }

    // A SHUTDOWN/INTERNAL_ERROR/FAIL_ENTRY exit, characterized (vcpu_fault.h): a failure, or
    // under QEMU TCG the emulation's fault, which ends the race without a verdict.
    void fault(unsigned i, bool mutated) {
        VcpuFault f = judge_vcpu_fault(
            gather_vcpu_fault(g_, i, mutated ? mutation_in_words(s_.mutation) : ""));
        std::string what = fmt::format("vcpu {}: {}", i, f.description);
        if (!f.platform) return fail(std::move(what));
        std::lock_guard lock(mu_);
        if (platform_fault_.empty()) {
            platform_fault_ = std::move(what);
            faulted_vcpu_ = i;
        }
        stop_ = true;
    }

    void vcpu_loop(unsigned i) {
        unsigned slot = board_.join(fmt::format("vcpu{}", i));
        if (cfg_.pin) pin_to_cpu(i);
        uint64_t pass_start = 0;  // the first entry after the last SYNC: the pass's writes follow
        for (;;) {
            GuestExit e{};
            Errno err;
            if (pass_start == 0) pass_start = monotonic_ns();
            WindowProbe protect_probe(protections_), mutation_probe(mutations_);
            {
                InCall in(board_, slot, Call::Run);
                runs_[i].start();
                err = g_.try_run(i, e);
                runs_[i].finish();
            }
            const bool mutated = mutation_probe.overlapped();  // for a fault's report
            board_.count(Counter::RunExits);
            if (err == EINTR && board_.thread(slot).signalled.load())
                return fail("interrupted by the supervisor");
            if (err == EINTR) continue;  // some other signal: re-enter
            if (err == EFAULT && s_.mutation == Mutation::Mprotect) {
                // The guest wrote while the host memory was read-only. Legal only inside a
                // protection window; the write is retried once the memory is writable again.
                if (!protect_probe.overlapped())
                    return fail(
                        fmt::format("KVM_RUN EFAULT on vcpu {} with no mprotect in flight", i));
                const kvm_run& run = g_.vcpu(i).run_state();
                if (run.exit_reason == uapi::kExitMemoryFault) {
                    uapi::MemoryFaultExit mf;
                    std::memcpy(&mf, &run.mmio,
                                sizeof mf);  // kvm_run.memory_fault shares the union
                    if (mf.gpa < kBase || mf.gpa >= kBase + slot_.size())
                        return fail(fmt::format(
                            "KVM_EXIT_MEMORY_FAULT at gpa {:#x} outside the slot", mf.gpa));
                }
                board_.count(Counter::MemoryFaults);
                const uint64_t target = protections_.started.load();
                while (protections_.finished.load() < target && !stop_) asm volatile("pause");
                continue;
            }
            if (!err.ok()) return fail(fmt::format("KVM_RUN on vcpu {}: {}", i, err.describe()));
            if (e.reason == ExitReason::Mmio) {
                kvm_run& run = g_.vcpu(i).run_state();
                uint64_t gpa = run.mmio.phys_addr;
                if (!slot_can_vanish())
                    return fail(fmt::format("MMIO exit while the slot is present ({}): {}",
                                            mutation_name(s_.mutation), g_.describe_exit(i)));
                if (gpa < kBase || gpa + run.mmio.len > kBase + slot_.size())
                    return fail("MMIO exit outside the mutated slot: " + g_.describe_exit(i));
                // The slot is gone: serve the access from its memory, as a VMM would.
                uint8_t* host = slot_.host() + (gpa - kBase);
                if (run.mmio.is_write)
                    std::memcpy(host, run.mmio.data, run.mmio.len);
                else
                    std::memcpy(run.mmio.data, host, run.mmio.len);
                board_.count(Counter::MmioExits);
            } else if (e.is(abi::UcallCmd::Sync)) {
                board_.count(Counter::GuestPasses);
                last_pass_[i] = e.ucall->args[0];
                passes_[i].publish(e.ucall->args[0], pass_start, monotonic_ns());
                pass_start = 0;
            } else if (e.is(abi::UcallCmd::Done)) {
                last_pass_[i] = e.ucall->args[0];
                return;
            } else if (!e.ucall && is_fault_exit(g_.vcpu(i).run_state().exit_reason)) {
                return fault(i, mutated);
            } else {
                return fail(fmt::format(
                    "vcpu {}: {}", i,
                    e.ucall ? describe(*e.ucall) : "unexpected exit " + g_.describe_exit(i)));
            }
        }
    }

    void mutate(unsigned slot) {
        mutations_.start();  // the window a vCPU fault's report checks for overlap
        struct Finish {
            OperationClock& c;
            ~Finish() { c.finish(); }
        } window_end{mutations_};
        switch (s_.mutation) {
            case Mutation::Delete: {
                InCall in(board_, slot, Call::SetMemoryRegion);
                slot_.remove();
                slot_.add();
                break;
            }
            case Mutation::MoveAway: {
                InCall in(board_, slot, Call::SetMemoryRegion);
                slot_.move(kBase + (1ull << 30));
                slot_.move(kBase);
                break;
            }
            case Mutation::Madvise: {
                InCall in(board_, slot, Call::Madvise);
                if (Errno e = slot_.try_madvise_dontneed(); !e.ok())
                    throw KvmError("madvise(MADV_DONTNEED)", e.value, "");
                break;
            }
            case Mutation::Mprotect: {
                InCall in(board_, slot, Call::Other);
                protections_.start();
                Errno ro = slot_.try_protect(PROT_READ);
                Errno rw = slot_.try_protect(PROT_READ | PROT_WRITE);
                protections_.finish();
                if (!ro.ok() || !rw.ok())
                    throw KvmError("mprotect", ro.ok() ? rw.value : ro.value, "");
                break;
            }
            case Mutation::Remap: {
                InCall in(board_, slot, Call::Remap);
                if (Errno e = slot_.try_remap(); !e.ok())
                    throw KvmError("mmap(MAP_FIXED)", e.value, "");
                break;
            }
            case Mutation::DirtyLogGet:
            case Mutation::DirtyLogClear: collect_dirty_log(slot); break;
            default: throw std::logic_error("mutation not supported with KVM_RUN");
        }
        board_.count(Counter::Mutations);
    }

    void mutator() {
        unsigned slot = board_.join("mutator");
        if (cfg_.pin) pin_to_cpu(s_.vcpus);
        Schedule sched(cfg_.seed, 1000);
        // A mutation before the vCPUs first entered KVM_RUN races nothing: wait for them.
        for (unsigned i = 0; i < s_.vcpus; ++i)
            while (runs_[i].started.load() == 0 && !stop_) asm volatile("pause");
        PhaseTime loop(board_,
                       Counter::LoopUs);  // from the vCPUs' first entry to the last mutation
        const uint64_t deadline =
            cfg_.duration_s > 0 ? monotonic_ns() + uint64_t(cfg_.duration_s * 1e9) : 0;
        // Iterations, then on until every vCPU finished a pass under the mutations (a fast mutator
        // could otherwise end before a slow guest began).
        for (uint64_t it = 0; !stop_ && (it < cfg_.iterations || !all_passed()); ++it) {
            if (deadline && monotonic_ns() > deadline && all_passed()) break;
            // Not aimed: a vCPU spends nearly all its time inside KVM_RUN, so an unaimed
            // mutation lands in a call (measured 1000/1000 hits on delete/move), while aiming
            // only added waits (3-10x fewer mutations/s). --jitter-us still spreads them.
            if (cfg_.jitter_us) sched.jitter(cfg_.jitter_us);
            // A hit: some vCPU was inside KVM_RUN at some point of the mutation's window.
            uint64_t finished_before[abi::kMaxVcpus];
            for (unsigned i = 0; i < s_.vcpus; ++i) finished_before[i] = runs_[i].finished.load();
            try {
                mutate(slot);
            } catch (const std::exception& e) {
                fail(e.what());
            }
            bool hit = false;
            for (unsigned i = 0; i < s_.vcpus; ++i)
                hit = hit || runs_[i].started.load() > finished_before[i];
            board_.count(Counter::HitIterations);
            if (hit) board_.count(Counter::Hits);
            board_.count(Counter::Iterations);
        }
        for (unsigned i = 0; i < s_.vcpus; ++i)
            __atomic_store_n(&g_.system_object<abi::LoopControl>(control(i))->stop, 1,
                             __ATOMIC_RELEASE);
    }

    // Every pass fills its vCPU's whole part: one that ran entirely after the previous
    // collection ended and before this one began must be dirty in this one, every page (a
    // missing bit is a page live migration would not copy again).
    void collect_dirty_log(unsigned slot) {
        const uint64_t pages = slot_.size() / abi::kPageSize;
        // Paced by the guest, not by a clock: collect once some vCPU completed a whole pass since
        // the last collection (the next pass is then in flight: the collection still races the
        // writes), so that every collection has a pass to be checked against.
        auto pass_since_last = [&] {
            for (unsigned i = 0; i < s_.vcpus; ++i)
                if (passes_[i].read().start > last_collected_) return true;
            return false;
        };
        while (!pass_since_last() && !stop_) asm volatile("pause");
        const uint64_t begin = monotonic_ns();
        std::vector<uint64_t> bits;
        {
            InCall in(board_, slot, Call::Other);
            bits = g_.vm().get_dirty_log(slot_.slot(), pages);
            if (s_.mutation == Mutation::DirtyLogClear)
                g_.vm().clear_dirty_log(slot_.slot(), 0, static_cast<uint32_t>(pages), bits);
        }
        const uint64_t end = monotonic_ns();
        for (unsigned i = 0; i < s_.vcpus; ++i) {
            const PassWindow::Seen p = passes_[i].read();
            if (p.pass == 0 || p.pass == checked_pass_[i] || p.start <= last_collected_ ||
                p.end >= begin)
                continue;
            checked_pass_[i] = p.pass;
            board_.count(Counter::DirtyPassesChecked);
            const uint64_t first = i * kPartBytes / abi::kPageSize;
            for (uint64_t page = first; page < first + kPartBytes / abi::kPageSize; ++page)
                if (!(bits[page / 64] >> (page % 64) & 1))
                    throw std::runtime_error(fmt::format(
                        "dirty log lost a write: vcpu {} wrote gpa {:#x} in pass {} (begun {} us "
                        "after the previous collection ended, done {} us before this one began) "
                        "and {} does not report the page",
                        i, kBase + page * abi::kPageSize, p.pass,
                        (p.start - last_collected_) / 1000, (begin - p.end) / 1000,
                        s_.mutation == Mutation::DirtyLogClear
                            ? "KVM_GET_DIRTY_LOG (manual protect)"
                            : "KVM_GET_DIRTY_LOG"));
        }
        last_collected_ = end;
    }

    static const char* mutation_in_words(Mutation m) {
        switch (m) {
            case Mutation::Delete: return "deleting and re-adding the data slot";
            case Mutation::MoveAway: return "moving the data slot away and back";
            case Mutation::Madvise: return "madvise(MADV_DONTNEED) on the slot's memory";
            case Mutation::Mprotect: return "mprotect()ing the slot's memory";
            case Mutation::Remap: return "mmap(MAP_FIXED) over the slot's memory";
            case Mutation::DirtyLogGet: return "collecting the slot's dirty log";
            case Mutation::DirtyLogClear: return "collecting and clearing the slot's dirty log";
            default: return "changing the slot";
        }
    }

    bool all_passed() const {
        for (unsigned i = 0; i < s_.vcpus; ++i)
            if (last_pass_[i].load() == 0) return false;
        return true;
    }

    // The last pass filled the vCPU's part with seed == pass number and verified it.
    void check_last_pass(unsigned i) {
        const uint64_t pass = last_pass_[i].load();
        if (pass == 0) throw std::runtime_error(fmt::format("vcpu {} never completed a pass", i));
        const uint8_t* part = slot_.host() + i * kPartBytes;
        if (auto off = host_pattern_mismatch(part, kBase + i * kPartBytes, kPartBytes, pass)) {
            uint64_t gpa = kBase + i * kPartBytes + *off, v;
            std::memcpy(&v, part + *off, 8);
            throw std::runtime_error(fmt::format(
                "data lost: gpa {:#x} holds {:#x}, the guest's last pass (seed {}) wrote {:#x}",
                gpa, v, pass, abi::pattern_word(gpa, pass)));
        }
    }

    const Scenario& s_;
    const RaceConfig& cfg_;
    ProgressBoard& board_;
    System sys_;
    GuestVm g_;
    Memslot& slot_;
    std::atomic<bool> stop_{false};
    OperationClock protections_;
    OperationClock runs_[abi::kMaxVcpus];  // each vCPU's KVM_RUN calls: what a hit overlaps
    std::atomic<uint64_t> last_pass_[abi::kMaxVcpus] = {};
    OperationClock mutations_;  // every mutation, for a vCPU fault's report
    // Each vCPU's last completed pass: its number and the span its writes fell in, published by
    // the vCPU thread, read by the mutator (a seqlock-free triple: the pass number is written
    // last and read first and last, so a torn read is seen and skipped).
    struct PassWindow {
        struct Seen {
            uint64_t pass, start, end;
        };
        std::atomic<uint64_t> pass{0}, start{0}, end{0};
        void publish(uint64_t p, uint64_t s, uint64_t e) {
            pass.store(0);
            start.store(s);
            end.store(e);
            pass.store(p);
        }
        Seen read() const {
            const uint64_t p = pass.load(), s = start.load(), e = end.load();
            return {pass.load() == p ? p : 0, s, e};
        }
    } passes_[abi::kMaxVcpus];
    uint64_t checked_pass_[abi::kMaxVcpus] = {};  // the mutator's
    uint64_t last_collected_ = 0;  // when the previous collection ended (or logging began)
    std::mutex mu_;
    std::string failure_;
    std::string platform_fault_;  // the first emulation fault under QEMU TCG (vcpu_fault.h)
    unsigned faulted_vcpu_ = 0;   // written with platform_fault_, read after the join
};

}  // namespace

void run_kvm_run_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board) {
    RunRace(s, cfg, board).run();
}

}  // namespace kvmrace
