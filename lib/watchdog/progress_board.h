// Shared memory between a scenario's child process and its supervisor: per-thread progress
// (which ioctl each thread is in, since when, how many it finished), outcome counters and the
// child's verdict. Lock-free atomics only, so a wedged child can never block the supervisor.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvmrace {

enum class Call : uint32_t {
    None = 0,
    PreFault,
    Run,
    SetMemoryRegion,
    Fallocate,
    Madvise,
    Remap,
    Other
};
std::string_view call_name(Call c);

// Outcome counters a scenario keeps (per errno of the racing ioctl, plus engine events).
enum class Counter : uint32_t {
    Iterations,
    Mutations,
    PrefaultCalls,
    PrefaultOk,
    PrefaultEagain,
    PrefaultEnoent,
    PrefaultEintr,
    PrefaultOther,
    RunExits,
    MmioExits,
    GuestPasses,
    MemoryFaults,
    Hits,                // iterations in which the mutation's window overlapped an actor call
    HitIterations,       // iterations judged for a hit (the denominator of hits=N/M)
    EagainInHits,        // EAGAIN answers given in hit iterations
    DirtyPassesChecked,  // guest passes a dirty-log collection was checked against (run_race.cpp)
    // Where a race's time goes (microseconds, summed over the run): building the VM and its
    // memory, the race loop as a whole (what a rate is measured over), within it the mutator's
    // changes, actor 0's racing calls and actor 0's settling call after each round (the rest of
    // the loop is waiting at the round barriers), and the final check.
    SetupUs,
    LoopUs,
    MutateUs,
    RaceUs,
    SettleUs,
    VerifyUs,
    kCount
};
std::string_view counter_name(Counter c);

enum class ChildVerdict : uint32_t { Running = 0, Pass, Fail, Skip };

uint64_t monotonic_ns();

class ProgressBoard {
public:
    static constexpr unsigned kMaxThreads = 16;

    struct Thread {
        std::atomic<int32_t> tid;
        std::atomic<uint32_t> call;  // Call
        std::atomic<uint64_t> call_started_ns;
        std::atomic<uint64_t> started;
        std::atomic<uint64_t> finished;
        std::atomic<uint32_t> signalled;  // the supervisor sent this thread a signal
        std::atomic<uint64_t> arg_gpa;    // the range the current (or last) call was given
        std::atomic<uint64_t> arg_size;
        char role[24];
    };

    // The scenario's memory as the mutator changes it, for HANG reports: each slot's home
    // range and where it is now. Written by the child only around its own memslot ioctls.
    enum class SlotState : uint32_t { Unused = 0, Present, Deleting, Absent, Adding, Moving };
    struct Slot {
        std::atomic<uint32_t> id;
        std::atomic<uint32_t> state;    // SlotState
        std::atomic<uint32_t> mutated;  // the scenario's mutation targets this slot
        std::atomic<uint64_t> home_gpa, size;
        std::atomic<uint64_t> gpa;       // present: where; moving/adding: the target
        std::atomic<uint64_t> from_gpa;  // moving: where it moves from
    };
    static constexpr unsigned kMaxSlots = 4;
    // VM facts a HANG report needs: its type and whether memslot updates zap all roots.
    enum class Quirk : uint32_t { Unknown = 0, On, Off };
    struct VmFacts {
        std::atomic<uint32_t> vm_type;
        std::atomic<uint32_t> slot_zap_all;  // Quirk: KVM_X86_QUIRK_SLOT_ZAP_ALL
    };

    // Registers the calling thread under `role`; returns its slot.
    unsigned join(std::string_view role);
    void begin(unsigned slot, Call c);
    void end(unsigned slot);
    void set_call_args(unsigned slot, uint64_t gpa, uint64_t size) {
        threads_[slot].arg_gpa.store(gpa);
        threads_[slot].arg_size.store(size);
    }

    // Registers a memslot for reports; returns its index on the board.
    unsigned add_slot(uint32_t id, uint64_t gpa, uint64_t size, bool mutated);
    void set_slot_state(unsigned i, SlotState s, uint64_t gpa);
    unsigned slots() const { return std::min(nslots_.load(), kMaxSlots); }
    const Slot& slot(unsigned i) const { return slots_[i]; }
    VmFacts& vm() { return vm_; }
    const VmFacts& vm() const { return vm_; }
    void count(Counter c, uint64_t n = 1) {
        counters_[static_cast<uint32_t>(c)].fetch_add(n, std::memory_order_relaxed);
    }
    uint64_t counter(Counter c) const { return counters_[static_cast<uint32_t>(c)].load(); }

    // Latest begin/end of any thread (0 before the first).
    uint64_t last_progress_ns() const { return last_progress_ns_.load(); }
    // Threads that joined (never more than the slots there are).
    unsigned threads() const { return std::min(nthreads_.load(), kMaxThreads); }
    const Thread& thread(unsigned i) const { return threads_[i]; }
    Thread& thread(unsigned i) { return threads_[i]; }

    void finish(ChildVerdict v, std::string_view message);
    ChildVerdict verdict() const { return static_cast<ChildVerdict>(verdict_.load()); }
    std::string message() const;

private:
    std::atomic<uint32_t> nthreads_;
    std::atomic<uint64_t> last_progress_ns_;
    Thread threads_[kMaxThreads];
    std::atomic<uint32_t> nslots_;
    Slot slots_[kMaxSlots];
    VmFacts vm_;
    std::atomic<uint64_t> counters_[static_cast<uint32_t>(Counter::kCount)];
    std::atomic<uint32_t> verdict_;
    char message_[2048];
};

static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "the board is shared across processes: its atomics must be lock-free");

// RAII: marks the thread inside `call` for the duration of a scope.
class InCall {
public:
    InCall(ProgressBoard& b, unsigned slot, Call c) : b_(b), slot_(slot) { b_.begin(slot_, c); }
    ~InCall() { b_.end(slot_); }
    InCall(const InCall&) = delete;
    InCall& operator=(const InCall&) = delete;

private:
    ProgressBoard& b_;
    unsigned slot_;
};

// Adds the time from construction to destruction (or to stop()) to a *Us counter; `on` false
// times nothing (a phase only one of several threads accounts for).
class PhaseTime {
public:
    PhaseTime(ProgressBoard& b, Counter c, bool on = true)
        : b_(b), c_(c), t0_(on ? monotonic_ns() : 0) {}
    ~PhaseTime() { stop(); }
    void stop() {
        if (t0_) b_.count(c_, (monotonic_ns() - t0_) / 1000);
        t0_ = 0;
    }
    PhaseTime(const PhaseTime&) = delete;
    PhaseTime& operator=(const PhaseTime&) = delete;

private:
    ProgressBoard& b_;
    Counter c_;
    uint64_t t0_;  // 0: not timing
};

}  // namespace kvmrace
