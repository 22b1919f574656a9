#include "race/vcpu_fault.h"

#include <cpuid.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "abi.h"
#include "guest/guest_vm.h"
#include "kernel/hypervisor.h"
#include "kernel/version.h"
#include "kvm/exit_reason.h"

namespace kvmrace {

namespace {

std::string hex_bytes(const std::vector<uint8_t>& b) {
    return fmt::format("{:02x}", fmt::join(b, " "));
}

std::string exit_code_name(uint64_t code, bool amd) {
    if (amd) {
        switch (code) {
            case 0x400: return "SVM_EXIT_NPF";
            case 0x07f: return "SVM_EXIT_SHUTDOWN";
            case 0x060: return "SVM_EXIT_INTR";
            case 0x04e: return "SVM_EXIT_EXCP_PF";
        }
        return fmt::format("SVM exit {:#x}", code);
    }
    switch (code) {
        case 48: return "EXIT_REASON_EPT_VIOLATION";
        case 49: return "EXIT_REASON_EPT_MISCONFIG";
        case 2: return "EXIT_REASON_TRIPLE_FAULT";
        case 0: return "EXIT_REASON_EXCEPTION_NMI";
    }
    return fmt::format("VMX exit {}", code);
}

std::string internal_error(const VcpuFaultFacts& f) {
    auto d = [&](size_t i) { return i < f.data.size() ? f.data[i] : 0; };
    switch (f.suberror) {
        case 1: {  // x86.c prepare_emulation_failure_exit(): flags, [insn bytes], then info
            const size_t first = std::min(f.data.size(), f.insn_from_kvm.empty() ? 1ul : 3ul);
            const std::string words =
                fmt::format("{:#x}", fmt::join(f.data.begin() + first, f.data.end(), " "));
            return "suberror 1 (EMULATION: KVM's emulator failed)" +
                   (f.insn_from_kvm.empty() ? std::string()
                                            : ", instruction " + hex_bytes(f.insn_from_kvm)) +
                   (words.empty()
                        ? std::string()
                        : " (exit reason, info1, info2, intr info, error code: " + words + ")");
        }
        case 2: return "suberror 2 (SIMUL_EX: an exception while delivering an exception)";
        case 3:  // x86.c kvm_prepare_event_vectoring_exit(): info2, exit code, info1, gpa, cpu
            return fmt::format(
                "suberror 3 (DELIVERY_EV: an exit during event delivery that KVM cannot emulate): "
                "{} info1={:#x} info2={:#x} gpa={} last_vmentry_cpu={}",
                exit_code_name(d(1), f.amd), d(2), d(0),
                d(3) == ~0ull ? std::string("invalid (none given)")
                              : fmt::format("{:#x}{}", d(3),
                                            f.fault_gpa_in_a_slot == false
                                                ? " (outside every memslot of this VM)"
                                                : ""),
                d(4));
        case 4:
            return fmt::format("suberror 4 (UNEXPECTED_EXIT_REASON): {} last_vmentry_cpu={}",
                               exit_code_name(d(0), f.amd), d(1));
    }
    return fmt::format("suberror {} data=[{:#x}]", f.suberror, fmt::join(f.data, " "));
}

// Which instruction: the bytes at rip, or why there are none.
std::string where(const VcpuFaultFacts& f) {
    std::string s = fmt::format("rip={:#x} rsp={:#x}", f.rip, f.rsp);
    if (!f.rip_gpa)
        return s +
               " (no translation in the guest's page tables: not a guest address, so this "
               "vCPU state is not one the guest can reach)";
    s += fmt::format(" (gpa {:#x}", *f.rip_gpa);
    if (*f.rip_gpa >= abi::kPayloadBase && *f.rip_gpa < abi::kStacksBase) s += ", payload code";
    if (!f.insn_at_rip.empty()) s += ", bytes " + hex_bytes(f.insn_at_rip);
    return s + ")";
}

// Under TCG, what makes a fault the emulation's rather than KVM's: a vCPU state our guest cannot
// reach (a rip it does not map, an exit at a GPA no memslot of the VM has), or a SHUTDOWN on SVM,
// which leaves no state to judge by and has so far come with the same runs as those.
bool platform_evidence(const VcpuFaultFacts& f) {
    if (f.exit_reason == uint32_t(ExitReason::Shutdown)) return f.amd;
    if (!f.rip_gpa) return true;
    return f.exit_reason == uint32_t(ExitReason::InternalError) && f.suberror == 3 &&
           f.fault_gpa_in_a_slot == false;
}

}  // namespace

bool is_fault_exit(uint32_t r) {
    return r == uint32_t(ExitReason::Shutdown) || r == uint32_t(ExitReason::InternalError) ||
           r == uint32_t(ExitReason::FailEntry);
}

VcpuFault judge_vcpu_fault(const VcpuFaultFacts& f) {
    std::string s = exit_reason_name(f.exit_reason);
    if (f.exit_reason == uint32_t(ExitReason::InternalError)) {
        s += " " + internal_error(f) + " at " + where(f);
    } else if (f.exit_reason == uint32_t(ExitReason::Shutdown)) {
        s += ": the guest triple-faulted (a fault while delivering an exception; its IDT, GDT, "
             "TSS and stacks are in slot 0, which no mutation touches)";
        if (f.amd)  // svm.c shutdown_interception(): the VMCB is undefined after SHUTDOWN
            s += fmt::format(
                "; KVM (SVM) re-INITs the vCPU on SHUTDOWN, so rip={:#x} is the "
                "reset state, not the faulting instruction",
                f.rip);
        else
            s += " at " + where(f);
    } else if (f.exit_reason == uint32_t(ExitReason::FailEntry)) {
        s +=
            fmt::format(" hardware_entry_failure_reason={:#x} at ", f.fail_entry_reason) + where(f);
    } else {
        s += " at " + where(f);
    }
    s += f.mutation.empty() ? "; no mutation overlapped this KVM_RUN"
                            : "; a mutation overlapped this KVM_RUN: " + f.mutation;
    s += fmt::format("; kernel {}, {}", f.kernel.empty() ? "?" : f.kernel,
                     describe_platform(f.hypervisor));
    return {s, under_qemu_tcg(f.hypervisor) && platform_evidence(f)};
}

VcpuFaultFacts gather_vcpu_fault(GuestVm& g, unsigned i, std::string mutation) {
    VcpuFaultFacts f;
    Vcpu& v = g.vcpu(i);
    const kvm_run& run = v.run_state();
    f.exit_reason = run.exit_reason;
    if (run.exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        f.suberror = run.internal.suberror;
        const size_t n = std::min<size_t>(run.internal.ndata, std::size(run.internal.data));
        f.data.assign(run.internal.data, run.internal.data + n);
        if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
            (run.emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
            const size_t len = std::min<size_t>(run.emulation_failure.insn_size,
                                                sizeof run.emulation_failure.insn_bytes);
            f.insn_from_kvm.assign(run.emulation_failure.insn_bytes,
                                   run.emulation_failure.insn_bytes + len);
        }
        if (f.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV && n > 3 && f.data[3] != ~0ull)
            f.fault_gpa_in_a_slot = g.in_a_slot(f.data[3]);
    } else if (run.exit_reason == KVM_EXIT_FAIL_ENTRY) {
        f.fail_entry_reason = run.fail_entry.hardware_entry_failure_reason;
    }
    const kvm_regs r = v.regs();
    f.rip = r.rip;
    f.rsp = r.rsp;
    f.rip_gpa = v.translate(r.rip);
    constexpr size_t kInsnMax = 15;
    if (f.rip_gpa && *f.rip_gpa + kInsnMax <= g.system_slot().size()) {
        const uint8_t* p = g.system_slot().host() + *f.rip_gpa;
        f.insn_at_rip.assign(p, p + kInsnMax);
    }
    unsigned a, b, c, d;
    f.amd = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2));  // SVM (AMD, Hygon)
    f.mutation = std::move(mutation);
    f.kernel = KernelVersion::running().str();
    f.hypervisor = hypervisor_signature();
    return f;
}

}  // namespace kvmrace
