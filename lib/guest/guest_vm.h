// A VM ready to run a payload: system slot at GPA 0 with page tables, GDT, IDT and the payload
// loaded; vCPUs in long mode at CPL0 or CPL3. Tests add their own memslots next to it.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "abi.h"
#include "guest/elf_image.h"
#include "guest/payloads.h"
#include "guest/system_tables.h"
#include "kvm/memslot.h"
#include "kvm/system.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace kvmrace {

struct GuestVmConfig {
    PayloadId payload = PayloadId::Basics;
    unsigned vcpus = 1;
    Privilege cpl = Privilege::Cpl3;
    bool irqchip = false;  // in-kernel LAPIC/IOAPIC/PIC (irqfd, HLT in kernel)
    uapi::VmType type = uapi::VmType::Default;
    Backing system_backing = Backing::Anonymous;  // GuestMemfdShared: code and stacks in gmem
};

// One KVM_RUN's result: the exit, and the ucall if the exit was one.
struct GuestExit {
    ExitReason reason;
    std::optional<abi::Ucall> ucall;

    bool is(abi::UcallCmd cmd) const { return ucall && ucall->cmd == static_cast<uint64_t>(cmd); }
};

class GuestVm {
public:
    static constexpr uint32_t kSystemSlot = 0;

    GuestVm(const System& system, const GuestVmConfig& config);

    Vm& vm() { return vm_; }
    Vcpu& vcpu(unsigned i = 0) { return *vcpus_.at(i); }
    unsigned vcpu_count() const { return static_cast<unsigned>(vcpus_.size()); }
    Memslot& system_slot() { return *system_slot_; }
    Privilege cpl() const { return config_.cpl; }

    // A memslot owned by this VM (deleted with it).
    Memslot& add_slot(const MemslotSpec& spec);
    // Whether `gpa` lies in the range one of this VM's slots was created at (present or not: a
    // race may have it deleted or moved away at the moment).
    bool in_a_slot(uint64_t gpa) const;
    // Host view of system slot memory at `gpa` (control blocks, ucall structs).
    template <typename T>
    T* system_object(uint64_t gpa) {
        return reinterpret_cast<T*>(system_slot_->host() + gpa);
    }

    // (Re)start the payload on a vCPU: entry point, fresh stack, arguments in rdi/rsi/rdx/rcx.
    void start(unsigned vcpu, std::array<uint64_t, 4> args);
    // One KVM_RUN on the calling thread; throws KvmError if KVM_RUN itself fails.
    GuestExit run(unsigned vcpu = 0);
    // The same, handing back KVM_RUN's errno (EINTR when a signal interrupted it).
    Errno try_run(unsigned vcpu, GuestExit& exit);
    // Runs until the next SYNC/DONE, forwarding LOG ucalls to the log; anything else (ASSERT,
    // EXCEPTION, a non-ucall exit) throws GuestFailure with the description.
    abi::Ucall run_to_ucall(unsigned vcpu = 0);
    // Runs until DONE and returns its value; SYNCs in between are a failure.
    uint64_t run_to_done(unsigned vcpu = 0);

    // Human-readable summary of the vCPU's last exit (for failure messages).
    std::string describe_exit(unsigned vcpu = 0);

private:
    GuestVmConfig config_;
    Vm vm_;
    std::unique_ptr<Memslot> system_slot_;
    std::vector<std::unique_ptr<Memslot>> slots_;
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    ElfImage payload_;
};

// A payload told us it failed, or the vCPU exited in a way its protocol does not allow.
class GuestFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace kvmrace
