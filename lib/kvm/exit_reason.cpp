#include "kvm/exit_reason.h"

#include <fmt/format.h>

namespace kvmrace {

std::string exit_reason_name(uint32_t reason) {
    switch (static_cast<ExitReason>(reason)) {
        case ExitReason::Unknown: return "KVM_EXIT_UNKNOWN";
        case ExitReason::Exception: return "KVM_EXIT_EXCEPTION";
        case ExitReason::Io: return "KVM_EXIT_IO";
        case ExitReason::Hypercall: return "KVM_EXIT_HYPERCALL";
        case ExitReason::Debug: return "KVM_EXIT_DEBUG";
        case ExitReason::Hlt: return "KVM_EXIT_HLT";
        case ExitReason::Mmio: return "KVM_EXIT_MMIO";
        case ExitReason::IrqWindowOpen: return "KVM_EXIT_IRQ_WINDOW_OPEN";
        case ExitReason::Shutdown: return "KVM_EXIT_SHUTDOWN";
        case ExitReason::FailEntry: return "KVM_EXIT_FAIL_ENTRY";
        case ExitReason::Intr: return "KVM_EXIT_INTR";
        case ExitReason::SetTpr: return "KVM_EXIT_SET_TPR";
        case ExitReason::TprAccess: return "KVM_EXIT_TPR_ACCESS";
        case ExitReason::InternalError: return "KVM_EXIT_INTERNAL_ERROR";
        case ExitReason::SystemEvent: return "KVM_EXIT_SYSTEM_EVENT";
        case ExitReason::X86Rdmsr: return "KVM_EXIT_X86_RDMSR";
        case ExitReason::X86Wrmsr: return "KVM_EXIT_X86_WRMSR";
        case ExitReason::DirtyRingFull: return "KVM_EXIT_DIRTY_RING_FULL";
        case ExitReason::Notify: return "KVM_EXIT_NOTIFY";
        case ExitReason::MemoryFault: return "KVM_EXIT_MEMORY_FAULT";
    }
    return fmt::format("KVM_EXIT_{}", reason);
}

}  // namespace kvmrace
