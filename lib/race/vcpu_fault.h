// An exit no guest of ours asks for (SHUTDOWN, INTERNAL_ERROR, FAIL_ENTRY) in a KVM_RUN race,
// characterized for the verdict: what KVM reported, where the vCPU was and which instruction,
// whether a mutation overlapped, on which kernel and platform. Under QEMU's TCG a fault whose
// vCPU state our guest cannot reach is not judged (the nested SVM is QEMU's emulation); every
// other fault fails the race.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvmrace {

class GuestVm;

struct VcpuFaultFacts {
    uint32_t exit_reason = 0;
    uint32_t suberror = 0;               // INTERNAL_ERROR
    std::vector<uint64_t> data;          // internal.data[0, ndata)
    std::vector<uint8_t> insn_from_kvm;  // EMULATION failure with the instruction-bytes flag
    uint64_t fail_entry_reason = 0;      // FAIL_ENTRY
    uint64_t rip = 0, rsp = 0;
    std::optional<uint64_t> rip_gpa;          // KVM_TRANSLATE of rip
    std::vector<uint8_t> insn_at_rip;         // guest memory at rip_gpa (system slot only)
    std::optional<bool> fault_gpa_in_a_slot;  // DELIVERY_EV: is its gpa guest memory at all?
    bool amd = true;                          // SVM or VMX: exit codes, SHUTDOWN
    std::string mutation;    // the mutation that overlapped the KVM_RUN, "" if none
    std::string kernel;      // uname -r
    std::string hypervisor;  // hypervisor_signature()
};

struct VcpuFault {
    std::string description;
    bool platform;  // under QEMU TCG, with the evidence: the emulation's, not judged
};

bool is_fault_exit(uint32_t exit_reason);
VcpuFault judge_vcpu_fault(const VcpuFaultFacts& f);
// Reads the facts off vCPU `vcpu` right after the exit.
VcpuFaultFacts gather_vcpu_fault(GuestVm& g, unsigned vcpu, std::string mutation);

}  // namespace kvmrace
