// KVM_EXIT_* as an enum, so that a switch over exits is checked and failures print names.
#pragma once

#include <cstdint>
#include <string>

namespace kvmrace {

enum class ExitReason : uint32_t {
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    SetTpr = 11,
    TprAccess = 12,
    InternalError = 17,
    SystemEvent = 24,
    X86Rdmsr = 29,
    X86Wrmsr = 30,
    DirtyRingFull = 31,
    Notify = 37,
    MemoryFault = 39,
};

std::string exit_reason_name(uint32_t reason);
inline std::string exit_reason_name(ExitReason r) {
    return exit_reason_name(static_cast<uint32_t>(r));
}

}  // namespace kvmrace
