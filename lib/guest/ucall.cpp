#include "guest/ucall.h"

#include <fmt/format.h>

#include <cstring>

namespace kvmrace {

std::optional<uint64_t> ucall_gpa(const kvm_run& run) {
    if (run.exit_reason != KVM_EXIT_IO || run.io.port != abi::kUcallPort ||
        run.io.direction != KVM_EXIT_IO_OUT || run.io.size != 4 || run.io.count != 1)
        return std::nullopt;
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(&run) + run.io.data_offset, 4);
    return v;
}

std::optional<abi::Ucall> read_ucall(std::span<const uint8_t> mem, uint64_t gpa) {
    if (gpa > mem.size() || mem.size() - gpa < sizeof(abi::Ucall)) return std::nullopt;
    abi::Ucall uc;
    std::memcpy(&uc, mem.data() + gpa, sizeof uc);
    uc.file[sizeof uc.file - 1] = 0;
    uc.text[sizeof uc.text - 1] = 0;
    return uc;
}

std::string describe(const abi::Ucall& uc) {
    switch (static_cast<abi::UcallCmd>(uc.cmd)) {
        case abi::UcallCmd::Sync: return fmt::format("SYNC({})", uc.args[0]);
        case abi::UcallCmd::Done: return fmt::format("DONE({})", uc.args[0]);
        case abi::UcallCmd::Assert:
            return fmt::format("ASSERT at {}:{}: {}", uc.file, uc.line, uc.text);
        case abi::UcallCmd::Log: return fmt::format("LOG: {}", uc.text);
        case abi::UcallCmd::Exception:
            return fmt::format("EXCEPTION vector={} error={:#x} rip={:#x} cr2={:#x}", uc.args[0],
                               uc.args[1], uc.args[2], uc.args[3]);
    }
    return fmt::format("unknown ucall {}", uc.cmd);
}

}  // namespace kvmrace
