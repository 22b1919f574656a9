// TDX VMs (trust domains): the KVM_MEMORY_ENCRYPT_OP commands (checked and try_ forms, every
// failure naming the command, errno, the TDX module's status and arguments), the launch flow, and
// TdxVm, the one RAII owner of a TD, its vCPU and private memory.
//
// Flow (Documentation/virt/kvm/x86/intel-tdx.rst, v6.18): KVM_TDX_CAPABILITIES (VM),
// KVM_TDX_INIT_VM (VM, before any vCPU; split irqchip first), vCPU, KVM_TDX_INIT_VCPU (vCPU),
// KVM_TDX_GET_CPUID (vCPU) + KVM_SET_CPUID2 with it, guest_memfd memory (PRIVATE),
// KVM_TDX_INIT_MEM_REGION... (vCPU; takes slots_lock; source, gpa page-aligned),
// KVM_TDX_FINALIZE_VM (VM). KVM_PRE_FAULT_MEMORY is refused (EOPNOTSUPP) until the last one.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kvm/coco_sink.h"
#include "kvm/errno_result.h"
#include "kvm/uapi.h"

namespace kvmrace {

std::string_view tdx_command_name(uint32_t id);  // "KVM_TDX_INIT_MEM_REGION"

struct TdxResult {
    Errno err;
    // kvm_tdx_cmd.hw_error: KVM copies the command back only for VM-scope commands, so for a
    // vCPU-scope one (INIT_VCPU, INIT_MEM_REGION, GET_CPUID) it is never read.
    uint64_t hw_error = 0;
    bool hw_error_read = false;
    bool ok() const { return err.ok(); }
};

struct TdxCaps {
    uint64_t supported_attrs = 0, supported_xfam = 0;
    std::vector<kvm_cpuid_entry2> cpuid;  // the CPUID bits userspace may configure
};

class TdxCommands {
public:
    explicit TdxCommands(CocoSink& sink) : sink_(&sink) {}

    // vcpu < 0: on the VM fd.
    TdxResult try_issue(uint32_t id, int vcpu, uint32_t flags, uint64_t data);
    void issue(uint32_t id, int vcpu, uint32_t flags, uint64_t data, const std::string& args);

    TdxCaps capabilities();
    void init_vm(uint64_t attributes, uint64_t xfam, std::span<const kvm_cpuid_entry2> cpuid);
    void init_vcpu(unsigned vcpu, uint64_t rcx = 0);
    std::vector<kvm_cpuid_entry2> get_cpuid(unsigned vcpu);
    // KVM_TDX_INIT_MEM_REGION; on return `r` says what is left.
    TdxResult try_init_mem_region(unsigned vcpu, uapi::TdxInitMemRegion& r, bool measure);
    void init_mem_region(unsigned vcpu, uint64_t source, uint64_t gpa, uint64_t pages,
                         bool measure);
    void finalize_vm();

private:
    CocoSink* sink_;
};

// XFAM bits 0 and 1 (x87, SSE) are fixed to 1 by the TDX module.
inline constexpr uint64_t kTdxXfamFixed = 0x3;

// The CPUID a TD is initialised with: for each configurable leaf, what KVM supports masked by
// what the TDX module lets userspace configure, plus x2APIC (TDX requires it: KVM_TDX_INIT_VCPU
// puts the local APIC in x2APIC mode).
std::vector<kvm_cpuid_entry2> tdx_initial_cpuid(std::span<const kvm_cpuid_entry2> configurable,
                                                std::span<const kvm_cpuid_entry2> supported);

// Runs the flow from the header comment on `sink` for `image`.
void launch_tdx(CocoSink& sink, TdxCommands& cmds, const LaunchImage& image,
                LaunchStop stop = LaunchStop::Complete);

class System;

// A launched TD with one vCPU.
class TdxVm {
public:
    explicit TdxVm(const System& sys);

    KvmCocoSink& sink() { return sink_; }
    TdxCommands& commands() { return cmds_; }
    void launch(const LaunchImage& image);
    // KVM_RUN on vCPU 0 until the guest's TDVMCALL<Instruction.IO> report; returns its value.
    uint64_t run_to_report();

private:
    KvmCocoSink sink_;
    TdxCommands cmds_;
};

}  // namespace kvmrace
