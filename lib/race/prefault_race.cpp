// KVM_PRE_FAULT_MEMORY racing memslot changes: actors prefault, a mutator changes the slot, both
// released together each iteration; every call is checked against the contract, the range must
// prefault completely once the slot is back, and at the end the guest reads it all back.
#include <sys/mman.h>

#include <barrier>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "guest/guest_vm.h"
#include "guest/host_pattern.h"
#include "kernel/version.h"
#include "kvm/kvm_error.h"
#include "kvm/stats.h"
#include "payloads/memory.h"
#include "race/aim.h"
#include "race/prefault_contract.h"
#include "race/race_config.h"
#include "race/schedule.h"

namespace kvmrace {

namespace {

constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kSlotBytes = 2 * k2M;  // two huge pages where the backing maps them
// guest_memfd maps only 4 KiB pages (v6.18: kvm_gmem_get_pfn's max_order is 0), so its slot is
// smaller: every round walks the range two or three times, at ~50 us a page nested (a 4 MiB slot
// made a round 190 ms), and 64 pages keep each call long enough to aim into. The races are per
// call and per memslot update, not per page.
constexpr uint64_t kGmemSlotBytes = 256ull << 10;
constexpr uint64_t kBase = abi::kDataBase;
constexpr uint32_t kManySlots = 16;  // layout=many: 16 slots of 256 KiB

bool maps_4k_only(RaceBacking b) {
    return b == RaceBacking::GuestMemfdShared || b == RaceBacking::GuestMemfdPrivate;
}

struct Range {
    uint64_t gpa, size;
};

// Actor 0's first call of each round, for the mutator's aim: iteration + 1 once it entered,
// iteration + 1 once it returned, and how long it took.
struct RoundAnchor {
    std::atomic<uint64_t> entered{0}, done{0}, call_ns{0};
};

class PrefaultRace {
public:
    PrefaultRace(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board)
        : s_(s),
          cfg_(cfg),
          board_(board),
          sys_(cfg.device),
          g_(sys_, {PayloadId::Memory, s.vcpus, Privilege::Cpl3, false, s.vm_type}),
          slot_bytes_(maps_4k_only(s.backing) ? kGmemSlotBytes : kSlotBytes) {
        const Backing b = s.backing == RaceBacking::GuestMemfdPrivate ? Backing::GuestMemfdPrivate
                                                                      : slot_backing(s.backing);
        // Their geometry is in 2 MiB steps: a second slot, a move by 2 MiB.
        const bool needs_4m = s.mutation == Mutation::DeleteSecond ||
                              s.mutation == Mutation::DeleteInMany ||
                              s.mutation == Mutation::MoveCovering;
        if (needs_4m && slot_bytes_ != kSlotBytes)
            throw std::logic_error(std::string(s.name) + ": needs the 4 MiB layout");
        if (s.mutation == Mutation::DeleteSecond) {
            slots_.push_back(&g_.add_slot({1, kBase, k2M, 0, b}));
            slots_.push_back(&g_.add_slot({2, kBase + k2M, k2M, 0, b}));
        } else if (s.mutation == Mutation::DeleteInMany) {
            // The same 4 MiB in small slots: a prefault call crosses many memslot boundaries.
            const uint64_t small = kSlotBytes / kManySlots;
            for (uint32_t k = 0; k < kManySlots; ++k)
                slots_.push_back(&g_.add_slot({1 + k, kBase + k * small, small, 0, b}));
        } else {
            slots_.push_back(&g_.add_slot({1, kBase, slot_bytes_, 0, b}));
        }
        mutated_ = s.mutation == Mutation::DeleteInMany ? slots_[kManySlots / 2] : slots_.back();
        // The board holds a few slots: the mutated one and its neighbours (mid - 1 .. mid + 1).
        const size_t mid = kManySlots / 2;
        for (size_t k = 0; k < slots_.size(); ++k) {
            const bool near =
                slots_.size() <= ProgressBoard::kMaxSlots || (k + 1 >= mid && k <= mid + 1);
            if (!near) continue;
            const unsigned i = board_.add_slot(slots_[k]->slot(), slots_[k]->gpa(),
                                               slots_[k]->size(), slots_[k] == mutated_);
            if (slots_[k] == mutated_) mutated_board_ = i;
        }
        board_.vm().vm_type = static_cast<uint32_t>(s.vm_type);
        if (s.slot_zap_all_off)
            g_.vm().enable_cap(uapi::kCapDisableQuirks2, uapi::kQuirkSlotZapAll);
        if (s_.mutation == Mutation::DirtyLogGet) mutated_->set_flags(uapi::kMemLogDirtyPages);
        board_.vm().slot_zap_all = static_cast<uint32_t>(
            s.slot_zap_all_off ? ProgressBoard::Quirk::Off : ProgressBoard::Quirk::On);
        if (s.backing == RaceBacking::GuestMemfdPrivate) {
            Errno e = g_.vm().try_set_memory_attributes(kBase, slot_bytes_,
                                                        uapi::kMemoryAttributePrivate);
            if (!e.ok())
                throw KvmError("KVM_SET_MEMORY_ATTRIBUTES", e.value, "PRIVATE over the data range");
        }
        // Covered-move keeps [kBase, kBase + 2 MiB) inside the slot: prefault only that.
        whole_ =
            s.mutation == Mutation::MoveCovering ? Range{kBase, k2M} : Range{kBase, slot_bytes_};
        patterned_ =
            s.backing != RaceBacking::GuestMemfdPrivate && s.mutation != Mutation::PunchHole;
        if (patterned_) fill_host_pattern();
    }

    void run() {
        std::vector<std::thread> threads;
        const bool concurrent = s_.mutation != Mutation::Recreate;
        std::barrier sync(static_cast<std::ptrdiff_t>(s_.vcpus + (concurrent ? 1 : 0)));
        {
            PhaseTime loop(board_, Counter::LoopUs);
            for (unsigned i = 0; i < s_.vcpus; ++i)
                threads.emplace_back([&, i] { actor(i, sync, concurrent); });
            if (concurrent) threads.emplace_back([&] { mutator(sync); });
            for (auto& t : threads) t.join();
        }
        if (!violation_.empty()) throw std::runtime_error(violation_);
        if (stopped_by_signal_) throw std::runtime_error("interrupted by the supervisor");
        check_eagain_seen();
        verify_mapped_and_readable();
    }

private:
    void fill_host_pattern() {
        for (Memslot* slot : slots_)
            host_fill_pattern(slot->host(), slot->gpa(), slot->size(), cfg_.seed);
    }

    Range range_of(unsigned i) const {
        if (!s_.disjoint_ranges || s_.vcpus == 1) return whole_;
        uint64_t part = whole_.size / s_.vcpus;
        return {whole_.gpa + i * part, part};
    }

    // The k-th tile of `r`, round robin: a few pages, so a tiling call is short whatever the
    // backing's page size (inside a huge mapping it is a single page).
    static Range tile(Range r, uint64_t k) {
        constexpr uint64_t kTile = 64 << 10;
        if (r.size <= kTile) return r;
        return {r.gpa + (k % (r.size / kTile)) * kTile, kTile};
    }

    bool stop() const { return stop_.load() || (deadline_ns_ && monotonic_ns() > deadline_ns_); }

    void violate(std::string what) {
        std::lock_guard lock(mu_);
        if (violation_.empty()) violation_ = std::move(what);
        violated_ = true;
        stop_ = true;
    }

    // Prefaults `r` until done. Mid-race, EAGAIN/ENOENT are retried (userspace's job since
    // v6.18); after the race any failure breaks the contract by itself (no window overlaps).
    // When `anchor` is given (actor 0 of a race round), the first call's entry and length are
    // published on it for the mutator's aim.
    void prefault(unsigned slot, Vcpu& v, Range r, uint64_t iteration,
                  RoundAnchor* anchor = nullptr) {
        uint64_t gpa = r.gpa, size = r.size;
        for (bool first_call = true; size > 0 && !violated_.load(); first_call = false) {
            WindowProbe inv(invalidations_), abs(absences_), mut(mutations_), conv(conversions_);
            PrefaultResult res;
            board_.set_call_args(slot, gpa, size);
            const uint64_t t0 = monotonic_ns();
            bool hit, invalidated, absent, converted;
            {
                InCall in(board_, slot, Call::PreFault);
                if (anchor && first_call) anchor->entered.store(iteration + 1);
                res = v.pre_fault(gpa, size);
                // Read the windows at once: a preemption after the call must not make a later
                // mutation look concurrent.
                hit = mut.overlapped(), invalidated = inv.overlapped(), absent = abs.overlapped();
                converted = conv.overlapped();
            }
            if (anchor && first_call) {
                anchor->call_ns.store(monotonic_ns() - t0);
                anchor->done.store(iteration + 1);
            }
            // A hit: this call and the mutation's window overlapped (the round is judged by it).
            if (hit) hit_round_.store(iteration + 1);
            CallWindow w{invalidated, absent, board_.thread(slot).signalled.load() != 0,
                         s_.backing == RaceBacking::GuestMemfdPrivate, converted};
            board_.count(Counter::PrefaultCalls);
            const Counter outcome = prefault_outcome(res);
            board_.count(outcome);
            if (hit && outcome == Counter::PrefaultEagain) board_.count(Counter::EagainInHits);
            if (std::string bad = check_prefault_call(res, w); !bad.empty()) {
                violate(
                    fmt::format("{} [{} iteration {}, vcpu {}]", bad, s_.name, iteration, v.id()));
                return;
            }
            if (res.ret < 0 && res.err == EINTR) {
                stopped_by_signal_ = true;
                stop_ = true;
                return;
            }
            gpa = res.gpa_after;
            size = res.size_after;
        }
    }

    void actor(unsigned i, std::barrier<>& sync, bool concurrent) {
        unsigned slot = board_.join(fmt::format("prefault{}", i));
        if (cfg_.pin) pin_to_cpu(i);
        Schedule sched(cfg_.seed, i);
        Vcpu& v = g_.vcpu(i);
        uint64_t next_tile = 0;
        for (uint64_t it = 0; it < cfg_.iterations; ++it) {
            if (concurrent) {
                sync.arrive_and_wait();  // start together with the mutator
                const bool raced = !stop();
                if (raced) {
                    PhaseTime time(board_, Counter::RaceUs, i == 0);
                    if (cfg_.jitter_us) sched.jitter(cfg_.jitter_us);  // the old blind engine
                    prefault(slot, v, range_of(i), it, i == 0 ? &anchor_ : nullptr);
                    // Keep prefaulting while this round's mutation goes on: a call that ended
                    // before the mutation began would race nothing. Short 64 KiB tiles, round
                    // robin across rounds, cover the mutation's whole window, where the narrow
                    // bug windows are (the stale root sits between the update's first SRCU sync
                    // and its zap); re-walking the whole range instead costs as much as faulting
                    // it in (nested ~50 us a 4 KiB page) and starved the mutation. Actor 0 tiles
                    // it all; the others stop at the round's first hit and leave the CPUs to the
                    // mutation (4 vCPUs on 2 CPUs). --jitter-us keeps the old blind engine.
                    while (!cfg_.jitter_us && !stop() && mutated_round_.load() <= it &&
                           (i == 0 || hit_round_.load() != it + 1))
                        prefault(slot, v, tile(range_of(i), next_tile++), it);
                }
                sync.arrive_and_wait();  // the mutator has put the slot back
                if (raced && i == 0) {
                    board_.count(Counter::HitIterations);
                    if (hit_round_.load() == it + 1) board_.count(Counter::Hits);
                }
            } else if (!stop()) {
                {
                    PhaseTime time(board_, Counter::RaceUs, i == 0);
                    prefault(slot, v, whole_, it);
                }
                recreate(slot);
            }
            if (!stop()) {  // must complete: nothing in flight
                PhaseTime time(board_, Counter::SettleUs, i == 0);
                prefault(slot, v, range_of(i), it);
            }
            if (i == 0) board_.count(Counter::Iterations);
            if (i == 0 && !concurrent) board_.count(Counter::HitIterations);  // never a race
            if (stop() && !concurrent) break;
        }
    }

    void recreate(unsigned slot) {
        PhaseTime time(board_, Counter::MutateUs);  // Recreate rows have one actor
        InCall in(board_, slot, Call::SetMemoryRegion);
        mutated_->remove();
        mutated_->add();
        board_.count(Counter::Mutations);
    }

    // One change and its undo, bracketed by the clocks the contract checker reads; the board
    // follows the slot so that a HANG report can say where each in-flight GPA stood.
    void mutate(unsigned slot) {
        using enum ProgressBoard::SlotState;
        PhaseTime time(board_, Counter::MutateUs);
        InCall in(board_, slot,
                  s_.mutation == Mutation::PunchHole ? Call::Fallocate : Call::SetMemoryRegion);
        mutations_.start();
        struct Finish {  // the window closes however the mutation ends
            OperationClock& c;
            ~Finish() { c.finish(); }
        } window_end{mutations_};
        const unsigned b = mutated_board_;
        auto move_to = [&](uint64_t gpa) {
            board_.set_slot_state(b, Moving, gpa);
            mutated_->move(gpa);
            board_.set_slot_state(b, Present, gpa);
        };
        switch (s_.mutation) {
            case Mutation::Delete:
            case Mutation::DeleteSecond:
            case Mutation::DeleteInMany:
                absences_.start();
                invalidations_.start();
                board_.set_slot_state(b, Deleting, mutated_->gpa());
                mutated_->remove();
                board_.set_slot_state(b, Absent, mutated_->gpa());
                invalidations_.finish();
                board_.set_slot_state(b, Adding, mutated_->gpa());
                mutated_->add();
                board_.set_slot_state(b, Present, mutated_->gpa());
                absences_.finish();
                break;
            case Mutation::MoveAway:
                absences_.start();
                invalidations_.start();
                move_to(kBase + (1ull << 30));
                move_to(kBase);
                invalidations_.finish();
                absences_.finish();
                break;
            case Mutation::MoveCovering:
                invalidations_.start();
                move_to(kBase - k2M);
                move_to(kBase);
                invalidations_.finish();
                break;
            case Mutation::DirtyLogToggle:
                mutated_->set_flags(uapi::kMemLogDirtyPages);
                mutated_->set_flags(0);
                break;
            case Mutation::PunchHole: {
                Errno e = mutated_->guest_memfd()->try_punch_hole(0, slot_bytes_);
                if (!e.ok())
                    throw KvmError("fallocate(PUNCH_HOLE|KEEP_SIZE)", e.value, "guest_memfd range");
                break;
            }
            // mmu-notifier invalidations of the host memory: KVM retries inside the call, so
            // no errno may come of them (memfd-shared memory keeps the data for the final read).
            case Mutation::Madvise:
                if (Errno e = mutated_->try_madvise_dontneed(); !e.ok())
                    throw KvmError("madvise(MADV_DONTNEED)", e.value, "slot memory");
                break;
            case Mutation::Remap:
                if (Errno e = mutated_->try_remap(); !e.ok())
                    throw KvmError("mmap(MAP_FIXED)", e.value, "slot memory");
                break;
            case Mutation::Mprotect: {
                // KVM_PRE_FAULT_MEMORY is a read fault: read-only memory still maps.
                Errno ro = mutated_->try_protect(PROT_READ);
                Errno rw = mutated_->try_protect(PROT_READ | PROT_WRITE);
                if (!ro.ok() || !rw.ok())
                    throw KvmError("mprotect", ro.ok() ? rw.value : ro.value, "slot memory");
                break;
            }
            case Mutation::DirtyLogGet:  // write-protects what the prefault maps, under mmu_lock
                g_.vm().get_dirty_log(mutated_->slot(), mutated_->size() / 4096);
                break;
            case Mutation::AttrToggle: {
                conversions_.start();
                struct Done {
                    OperationClock& c;
                    ~Done() { c.finish(); }
                } conversion_end{conversions_};
                for (uint64_t attrs : {uint64_t{0}, uint64_t{uapi::kMemoryAttributePrivate}})
                    if (Errno e = g_.vm().try_set_memory_attributes(whole_.gpa, whole_.size, attrs);
                        !e.ok())
                        throw KvmError("KVM_SET_MEMORY_ATTRIBUTES", e.value,
                                       fmt::format("attributes={:#x} over the range", attrs));
                break;
            }
            case Mutation::Recreate:
            case Mutation::BeforeLaunchFinish:  // confidential-VM rows: race/coco_race.cpp
            case Mutation::UnalignedSource:
            case Mutation::DirtyLogClear:  // KVM_RUN's (run_race.cpp)
            case Mutation::IrqfdDeassign:  // the irq actor's: race/irq_race.cpp
            case Mutation::EventfdClose: break;
        }
        board_.count(Counter::Mutations);
    }

    void mutator(std::barrier<>& sync) {
        unsigned slot = board_.join("mutator");
        // Not on actor 0's CPU: the aim spins while waiting for actor 0's call.
        if (cfg_.pin) pin_to_cpu(std::max(1u, s_.vcpus - 1));
        Schedule sched(cfg_.seed, 1000);
        aim::Aimer aimer(cfg_.seed);
        for (uint64_t it = 0; it < cfg_.iterations; ++it) {
            sync.arrive_and_wait();
            if (!stop()) {
                if (cfg_.jitter_us)
                    sched.jitter(cfg_.jitter_us);  // the old blind engine, for A/B runs
                else
                    aim_at_actor(aimer, it);
                try {
                    mutate(slot);
                } catch (const std::exception& e) {
                    violate(e.what());
                }
            }
            mutated_round_.store(it + 1);
            sync.arrive_and_wait();
        }
    }

    // The aim (aim.h), anchored on the actor instead of timed from the common release (timed
    // offsets missed 15-25 % of rounds nested, where a thread's wake-up varies by more than a
    // call): wait until actor 0 is inside its first call of the round, then start the mutation at
    // a swept fraction of that call's measured length. Every 8th round is a sample round: the
    // mutation waits for the first call to end, so its length is measured undisturbed (a call
    // the mutation overlapped is cut short by EAGAIN or stretched by retries). Actor 0's tiling
    // makes sample rounds races all the same.
    void aim_at_actor(aim::Aimer& aimer, uint64_t it) {
        constexpr uint64_t kSampleEvery = 8;
        while (anchor_.entered.load() <= it && !stop()) asm volatile("pause");
        if (it % kSampleEvery == 0 || aimer.actor_ns() == 0) {
            while (anchor_.done.load() <= it && !stop()) asm volatile("pause");
            if (!stop()) aimer.observe_call(anchor_.call_ns.load());
            return;
        }
        aim::spin_ns(aimer.landing_ns(it));
    }

    void check_eagain_seen() {
        if (!invalidates_slot(s_.mutation)) return;
        const std::string why =
            eagain_never_seen(board_.counter(Counter::PrefaultEagain),
                              board_.counter(Counter::Iterations), KernelVersion::running());
        if (!why.empty()) throw std::runtime_error(why);
    }

    // After the race: the whole range is mapped (stats grew) and the guest reads it correctly.
    void verify_mapped_and_readable() {
        PhaseTime time(board_, Counter::VerifyUs);
        Stats stats(g_.vm().stats_fd());
        unsigned slot = board_.join("verifier");
        prefault(slot, g_.vcpu(0), whole_, cfg_.iterations);
        if (!violation_.empty()) throw std::runtime_error(violation_);
        uint64_t mapped = stats.read("pages_4k").value_or(0) * 4096 +
                          stats.read("pages_2m").value_or(0) * k2M +
                          stats.read("pages_1g").value_or(0) * (1ull << 30);
        if (mapped < whole_.size)
            throw std::runtime_error(
                fmt::format("after a complete prefault KVM maps only {:#x} bytes (pages_4k/2m/1g) "
                            "for a {:#x}-byte range",
                            mapped, whole_.size));
        InCall in(board_, slot, Call::Run);
        if (patterned_) {
            g_.start(0, {payload::memory::kVerify, whole_.gpa, whole_.size, cfg_.seed});
            g_.run_to_done(0);
        } else {
            g_.start(0, {payload::memory::kReadAll, whole_.gpa, whole_.size, 0});
            uint64_t x = g_.run_to_done(0);
            if (x != 0)
                throw std::runtime_error(
                    fmt::format("fresh guest_memfd pages are not zero (xor {:#x})", x));
        }
    }

    const Scenario& s_;
    const RaceConfig& cfg_;
    ProgressBoard& board_;
    System sys_;
    GuestVm g_;
    uint64_t slot_bytes_;
    std::vector<Memslot*> slots_;
    unsigned mutated_board_ = 0;  // the mutated slot's index on the board
    Memslot* mutated_ = nullptr;
    Range whole_{};
    bool patterned_ = false;
    OperationClock invalidations_, absences_, conversions_;
    OperationClock mutations_;                // brackets every mutation: the window a hit overlaps
    std::atomic<uint64_t> hit_round_{0};      // iteration + 1 of the last round with a hit
    std::atomic<uint64_t> mutated_round_{0};  // iteration + 1 of the last round mutated
    RoundAnchor anchor_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> stopped_by_signal_{false};
    uint64_t deadline_ns_ = cfg_.duration_s > 0 ? monotonic_ns() + uint64_t(cfg_.duration_s * 1e9)
                                                : 0;
    std::mutex mu_;
    std::string violation_;  // the first one; written under mu_, read once the threads joined
    std::atomic<bool> violated_{false};
};

}  // namespace

void run_prefault_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board) {
    PhaseTime setup(board, Counter::SetupUs);
    PrefaultRace race(s, cfg, board);
    setup.stop();
    race.run();
}

}  // namespace kvmrace
