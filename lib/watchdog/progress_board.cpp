#include "watchdog/progress_board.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace kvmrace {

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

std::string_view call_name(Call c) {
    switch (c) {
        case Call::None: return "-";
        case Call::PreFault: return "KVM_PRE_FAULT_MEMORY";
        case Call::Run: return "KVM_RUN";
        case Call::SetMemoryRegion: return "KVM_SET_USER_MEMORY_REGION2";
        case Call::Fallocate: return "fallocate(PUNCH_HOLE)";
        case Call::Madvise: return "madvise(MADV_DONTNEED)";
        case Call::Remap: return "mmap(MAP_FIXED)";
        case Call::Other: return "other";
    }
    return "?";
}

std::string_view counter_name(Counter c) {
    switch (c) {
        case Counter::Iterations: return "iterations";
        case Counter::Mutations: return "mutations";
        case Counter::PrefaultCalls: return "prefault_calls";
        case Counter::PrefaultOk: return "prefault_ok";
        case Counter::PrefaultEagain: return "EAGAIN";
        case Counter::PrefaultEnoent: return "ENOENT";
        case Counter::PrefaultEintr: return "EINTR";
        case Counter::PrefaultOther: return "other_errno";
        case Counter::RunExits: return "run_exits";
        case Counter::MmioExits: return "mmio_exits";
        case Counter::GuestPasses: return "guest_passes";
        case Counter::MemoryFaults: return "efault_exits";
        case Counter::Hits: return "hits";
        case Counter::DirtyPassesChecked: return "dirty_passes_checked";
        case Counter::HitIterations: return "hit_iterations";
        case Counter::EagainInHits: return "EAGAIN_in_hits";
        case Counter::SetupUs: return "setup_us";
        case Counter::LoopUs: return "loop_us";
        case Counter::MutateUs: return "mutate_us";
        case Counter::RaceUs: return "race_us";
        case Counter::SettleUs: return "settle_us";
        case Counter::VerifyUs: return "verify_us";
        case Counter::kCount: break;
    }
    return "?";
}

unsigned ProgressBoard::join(std::string_view role) {
    unsigned slot = nthreads_.fetch_add(1);
    if (slot >= kMaxThreads) std::abort();  // a scenario with more threads is a harness bug
    Thread& t = threads_[slot];
    t.tid = static_cast<int32_t>(::syscall(SYS_gettid));
    size_t n = std::min(role.size(), sizeof t.role - 1);
    std::memcpy(t.role, role.data(), n);
    t.role[n] = 0;
    return slot;
}

void ProgressBoard::begin(unsigned slot, Call c) {
    Thread& t = threads_[slot];
    uint64_t now = monotonic_ns();
    t.call_started_ns.store(now);
    t.call.store(static_cast<uint32_t>(c));
    t.started.fetch_add(1);
    last_progress_ns_.store(now);
}

void ProgressBoard::end(unsigned slot) {
    Thread& t = threads_[slot];
    t.call.store(static_cast<uint32_t>(Call::None));
    t.finished.fetch_add(1);
    last_progress_ns_.store(monotonic_ns());
}

unsigned ProgressBoard::add_slot(uint32_t id, uint64_t gpa, uint64_t size, bool mutated) {
    unsigned i = nslots_.fetch_add(1);
    if (i >= kMaxSlots) std::abort();  // a scenario with more slots is a harness bug
    Slot& s = slots_[i];
    s.id = id;
    s.mutated = mutated;
    s.home_gpa = gpa;
    s.size = size;
    s.gpa = gpa;
    s.from_gpa = gpa;
    s.state = static_cast<uint32_t>(SlotState::Present);
    return i;
}

void ProgressBoard::set_slot_state(unsigned i, SlotState state, uint64_t gpa) {
    // Readers take the state first: a state they see comes with the addresses it was set with.
    slots_[i].from_gpa.store(slots_[i].gpa.load());
    slots_[i].gpa.store(gpa);
    slots_[i].state.store(static_cast<uint32_t>(state));
}

void ProgressBoard::finish(ChildVerdict v, std::string_view message) {
    size_t n = std::min(message.size(), sizeof message_ - 1);
    std::memcpy(message_, message.data(), n);
    message_[n] = 0;
    verdict_.store(static_cast<uint32_t>(v));
}

std::string ProgressBoard::message() const {
    return std::string(message_, strnlen(message_, sizeof message_));
}

}  // namespace kvmrace
