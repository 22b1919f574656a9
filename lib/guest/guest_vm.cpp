#include "guest/guest_vm.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "guest/ucall.h"
#include "kvm/kvm_error.h"

namespace kvmrace {

GuestVm::GuestVm(const System& system, const GuestVmConfig& config)
    : config_(config), vm_(system.create_vm(config.type)), payload_(payload_image(config.payload)) {
    if (config.irqchip) vm_.create_irqchip();
    system_slot_ = std::make_unique<Memslot>(
        vm_, MemslotSpec{kSystemSlot, 0, abi::kSystemSlotSize, 0, config.system_backing});
    std::span<uint8_t> mem(system_slot_->host(), system_slot_->size());
    for (const auto& seg : payload_.segments()) {
        if (seg.gpa < abi::kPayloadBase || seg.gpa + seg.mem_size > abi::kPayloadLimit)
            throw std::runtime_error(
                fmt::format("payload {} segment at {:#x} outside the payload area",
                            payload_name(config.payload), seg.gpa));
        std::memcpy(&mem[seg.gpa], seg.bytes.data(), seg.bytes.size());
        std::memset(&mem[seg.gpa + seg.bytes.size()], 0, seg.mem_size - seg.bytes.size());
    }
    auto vectors = payload_.symbol("__guest_vectors");
    if (!vectors) throw std::runtime_error("payload has no __guest_vectors symbol");
    write_system_tables(mem, *vectors, config.vcpus);
    const auto& cpuid = system.supported_cpuid();
    for (unsigned i = 0; i < config.vcpus; ++i) {
        auto v = std::make_unique<Vcpu>(vm_.create_vcpu(i));
        v->set_cpuid(cpuid);
        v->set_sregs(long_mode_sregs(v->sregs(), config.cpl, i));
        vcpus_.push_back(std::move(v));
    }
}

Memslot& GuestVm::add_slot(const MemslotSpec& spec) {
    slots_.push_back(std::make_unique<Memslot>(vm_, spec));
    return *slots_.back();
}

bool GuestVm::in_a_slot(uint64_t gpa) const {
    // Home ranges only: a mover thread may be changing where a slot is right now.
    auto in = [&](const Memslot& m) {
        return gpa >= m.home_gpa() && gpa - m.home_gpa() < m.size();
    };
    if (in(*system_slot_)) return true;
    for (const auto& m : slots_)
        if (in(*m)) return true;
    return false;
}

void GuestVm::start(unsigned i, std::array<uint64_t, 4> args) {
    kvm_regs r{};
    r.rip = payload_.entry();
    r.rsp = stack_top(i);
    // IOPL=3 lets a CPL3 payload do the port I/O of the ucall protocol.
    r.rflags = 0x2 | (config_.cpl == Privilege::Cpl3 ? 0x3000 : 0);
    r.rdi = args[0];
    r.rsi = args[1];
    r.rdx = args[2];
    r.rcx = args[3];
    vcpu(i).set_regs(r);
}

Errno GuestVm::try_run(unsigned i, GuestExit& exit) {
    Vcpu& v = vcpu(i);
    Errno e = v.try_run();
    if (!e.ok()) return e;
    exit = GuestExit{v.exit_reason(), std::nullopt};
    if (auto gpa = ucall_gpa(v.run_state())) {
        exit.ucall = read_ucall({system_slot_->host(), system_slot_->size()}, *gpa);
        if (!exit.ucall)
            throw GuestFailure(
                fmt::format("vcpu {}: ucall at GPA {:#x} outside the system slot", i, *gpa));
    }
    return {};
}

GuestExit GuestVm::run(unsigned i) {
    GuestExit exit{};
    Errno e;
    do {
        e = try_run(i, exit);  // a signal interrupted KVM_RUN: re-enter, as a VMM does
    } while (e == EINTR);
    if (!e.ok()) throw KvmError("KVM_RUN", e.value, fmt::format("vcpu={}", i));
    return exit;
}

std::string GuestVm::describe_exit(unsigned i) {
    Vcpu& v = vcpu(i);
    const kvm_run& run = v.run_state();
    std::string s = exit_reason_name(run.exit_reason);
    switch (v.exit_reason()) {
        case ExitReason::Io:
            s += fmt::format(" port={:#x} dir={} size={}", run.io.port,
                             run.io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run.io.size);
            break;
        case ExitReason::Mmio:
            s += fmt::format(" gpa={:#x} len={} {}", run.mmio.phys_addr, run.mmio.len,
                             run.mmio.is_write ? "write" : "read");
            break;
        case ExitReason::InternalError:
            s += fmt::format(" suberror={}", run.internal.suberror);
            break;
        case ExitReason::FailEntry:
            s += fmt::format(" reason={:#x}", run.fail_entry.hardware_entry_failure_reason);
            break;
        default: break;
    }
    kvm_regs r = v.regs();
    return s + fmt::format(" rip={:#x} rsp={:#x}", r.rip, r.rsp);
}

abi::Ucall GuestVm::run_to_ucall(unsigned i) {
    for (;;) {
        GuestExit e = run(i);
        if (!e.ucall)
            throw GuestFailure(fmt::format("vcpu {}: unexpected exit {}", i, describe_exit(i)));
        switch (static_cast<abi::UcallCmd>(e.ucall->cmd)) {
            case abi::UcallCmd::Log: spdlog::info("guest vcpu {}: {}", i, e.ucall->text); continue;
            case abi::UcallCmd::Sync:
            case abi::UcallCmd::Done: return *e.ucall;
            default: throw GuestFailure(fmt::format("vcpu {}: {}", i, describe(*e.ucall)));
        }
    }
}

uint64_t GuestVm::run_to_done(unsigned i) {
    abi::Ucall uc = run_to_ucall(i);
    if (uc.cmd != static_cast<uint64_t>(abi::UcallCmd::Done))
        throw GuestFailure(fmt::format("vcpu {}: expected DONE, got {}", i, describe(uc)));
    return uc.args[0];
}

}  // namespace kvmrace
