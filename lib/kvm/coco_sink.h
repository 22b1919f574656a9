// Where a confidential VM's launch flow sends its steps. The real sink issues the ioctls on a Vm
// it owns; the unit tests use a recording fake, so the order of each flow (which this host cannot
// run) is checked by a test of our own launch code.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kvm/errno_result.h"
#include "kvm/guest_memfd.h"
#include "kvm/mapping.h"
#include "kvm/uapi.h"

namespace kvmrace {

class System;
class Vm;
class Vcpu;
class Memslot;

// The state a SEV-family vCPU boots in: 32-bit flat protected mode, paging off (so every access
// is private), at `rip` with `rdi` as the payload's argument. TDX vCPUs have no such state: the
// TDX module fixes it.
struct BootState {
    uint64_t rip = 0;
    uint64_t rdi = 0;
};

// One piece of the launch image: bytes at a page-aligned GPA, padded to whole pages.
struct LaunchChunk {
    uint64_t gpa;
    std::vector<uint8_t> bytes;
};

struct LaunchImage {
    std::vector<LaunchChunk> chunks;
    uint64_t entry = 0;
    uint64_t slot_gpa = 0, slot_size = 0;  // the one memslot that holds it
};

// Where a launch flow stops: Complete, or just before LAUNCH_FINISH / FINALIZE_VM (while
// populate commands are still allowed and prefault is still refused on SNP and TDX).
enum class LaunchStop { Complete, BeforeFinish };

class CocoSink {
public:
    virtual ~CocoSink() = default;
    // KVM_MEMORY_ENCRYPT_OP on the VM fd (vcpu < 0) or on vCPU `vcpu`'s fd; `cmd` points to a
    // uapi::SevCmd or uapi::TdxCmd. `name` is the sub-command ("KVM_SEV_INIT2").
    virtual Errno encrypt_op(std::string_view name, int vcpu, void* cmd) = 0;
    virtual void enable_split_irqchip() = 0;  // TDX: before any vCPU
    virtual void create_vcpu(unsigned id) = 0;
    virtual void set_boot_state(unsigned vcpu, const BootState& s) = 0;
    virtual void set_cpuid(unsigned vcpu, std::span<const kvm_cpuid_entry2> entries) = 0;
    virtual std::vector<kvm_cpuid_entry2> supported_cpuid() = 0;
    // A memslot at [gpa, gpa + size). Private: guest_memfd-backed with the PRIVATE attribute set
    // (returns nullptr: the host cannot touch it); shared: anonymous memory (returns its address).
    virtual uint8_t* add_memory(uint32_t slot, uint64_t gpa, uint64_t size, bool private_mem) = 0;
};

// The real sink: owns the VM, its vCPUs, memslots and guest_memfds.
class KvmCocoSink : public CocoSink {
public:
    KvmCocoSink(const System& sys, uapi::VmType type);
    ~KvmCocoSink() override;

    Vm& vm() { return *vm_; }
    Vcpu& vcpu(unsigned id);
    Memslot& slot(uint32_t id);

    Errno encrypt_op(std::string_view name, int vcpu, void* cmd) override;
    void enable_split_irqchip() override;
    void create_vcpu(unsigned id) override;
    void set_boot_state(unsigned vcpu, const BootState& s) override;
    void set_cpuid(unsigned vcpu, std::span<const kvm_cpuid_entry2> entries) override;
    std::vector<kvm_cpuid_entry2> supported_cpuid() override;
    uint8_t* add_memory(uint32_t slot, uint64_t gpa, uint64_t size, bool private_mem) override;

private:
    const System* sys_;
    std::unique_ptr<Vm> vm_;
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    std::vector<std::unique_ptr<Memslot>> slots_;
};

// KVM_RUN on `v` until the coco payload reports (guest/coco/report_abi.h): a PIO write of
// COCO_REPORT_PORT (SEV; TDX through TDVMCALL<Instruction.IO>) returns its value, a GHCB MSR
// termination request with kvmrace's reason set (SEV-ES, SNP) its reason code. Anything else
// throws, naming the exit.
uint64_t wait_for_coco_report(Vcpu& v);

// A page-aligned private copy of `bytes` (a populate source: KVM_SEV_SNP_LAUNCH_UPDATE and
// KVM_TDX_INIT_MEM_REGION read whole pages; seed 004's rework requires page-aligned sources).
Mapping page_aligned_copy(std::span<const uint8_t> bytes);

}  // namespace kvmrace
