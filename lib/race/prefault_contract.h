// The contract KVM_PRE_FAULT_MEMORY must keep on every single call during a race, as a pure
// function of the call and of what the mutator was doing around it (unit-tested).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "kernel/version.h"
#include "kvm/vcpu.h"
#include "watchdog/progress_board.h"

namespace kvmrace {

// Counts operations as they start and finish; two readings bracket a call's window.
struct OperationClock {
    std::atomic<uint64_t> started{0};
    std::atomic<uint64_t> finished{0};

    void start() { started.fetch_add(1); }
    void finish() { finished.fetch_add(1); }
};

// What the mutator did while one prefault call ran.
struct CallWindow {
    bool invalidation_overlapped;  // a delete/move ioctl overlapped the call
    bool absence_overlapped;       // the GPA was (or may have been) uncovered during the call
    bool signalled;                // we signalled this thread (recovery)
    bool private_gpa = false;      // the range is private: no memslot means EFAULT, not ENOENT
    // A KVM_SET_MEMORY_ATTRIBUTES conversion overlapped the call: the call took the GPA's
    // private/shared state at its start, the fault checks it again (kvm_mmu_faultin_pfn), and a
    // mismatch is a memory-fault exit, i.e. EFAULT.
    bool conversion_overlapped = false;
};

// Reads a clock before and after a call: an operation overlapped iff one started before the
// call ended that had not finished before it began.
class WindowProbe {
public:
    explicit WindowProbe(const OperationClock& c)
        : clock_(c), finished_before_(c.finished.load()) {}
    bool overlapped() const { return clock_.started.load() > finished_before_; }

private:
    const OperationClock& clock_;
    uint64_t finished_before_;
};

// "" when the call kept the contract, else what it broke:
// (size shrank) XOR (ret < 0); gpa advanced by exactly what size lost; errno in the documented
// set; EAGAIN only while a delete/move of the slot was in flight; ENOENT only while the GPA was
// uncovered (for a private GPA KVM answers EFAULT there instead: it cannot emulate MMIO on
// private memory); EFAULT also while a private<->shared conversion overlapped the call; EINTR
// only when signalled.
std::string check_prefault_call(const PrefaultResult& r, const CallWindow& w);

// The outcome counter a call adds to: ok, or its errno (ENOENT and the private EFAULT together).
Counter prefault_outcome(const PrefaultResult& r);

// Since 6.18 a prefault that meets a deleted/moved slot answers EAGAIN: a delete/move race that
// never saw one on such a kernel never hit its window. "" when that is not the case.
inline constexpr KernelVersion kEagainSince{6, 18, 0};
std::string eagain_never_seen(uint64_t eagain, uint64_t iterations, const KernelVersion& k);

}  // namespace kvmrace
