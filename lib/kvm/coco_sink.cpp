#include "kvm/coco_sink.h"

#include <sys/ioctl.h>

#include <cstring>

#include <fmt/format.h>

#include "coco/report_abi.h"
#include "kvm/ioctl.h"
#include "kvm/memslot.h"
#include "kvm/system.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace kvmrace {

namespace {
constexpr uint64_t kPage = 4096;
constexpr int kCapSplitIrqchip = 121;  // KVM_CAP_SPLIT_IRQCHIP
constexpr uint64_t kIoapicPins = 24;
}  // namespace

Mapping page_aligned_copy(std::span<const uint8_t> bytes) {
    Mapping m = Mapping::anonymous((bytes.size() + kPage - 1) / kPage * kPage);
    if (!bytes.empty()) std::memcpy(m.data(), bytes.data(), bytes.size());
    return m;
}

KvmCocoSink::KvmCocoSink(const System& sys, uapi::VmType type)
    : sys_(&sys), vm_(std::make_unique<Vm>(sys.create_vm(type))) {}

KvmCocoSink::~KvmCocoSink() {
    // Memslots before vCPUs before the VM: each holds a reference to what it lives in.
    slots_.clear();
    vcpus_.clear();
}

Vcpu& KvmCocoSink::vcpu(unsigned id) {
    if (id >= vcpus_.size() || !vcpus_[id]) throw std::logic_error(fmt::format("no vCPU {}", id));
    return *vcpus_[id];
}

Memslot& KvmCocoSink::slot(uint32_t id) {
    for (auto& s : slots_)
        if (s->slot() == id) return *s;
    throw std::logic_error(fmt::format("no memslot {}", id));
}

Errno KvmCocoSink::encrypt_op(std::string_view, int vcpu, void* cmd) {
    const int fd = vcpu < 0 ? vm_->fd() : this->vcpu(static_cast<unsigned>(vcpu)).fd();
    return try_ioctl(fd, uapi::kMemoryEncryptOp, cmd);
}

void KvmCocoSink::enable_split_irqchip() { vm_->enable_cap(kCapSplitIrqchip, kIoapicPins); }

void KvmCocoSink::create_vcpu(unsigned id) {
    if (vcpus_.size() <= id) vcpus_.resize(id + 1);
    vcpus_[id] = std::make_unique<Vcpu>(vm_->create_vcpu(id));
}

void KvmCocoSink::set_boot_state(unsigned id, const BootState& b) {
    Vcpu& v = vcpu(id);
    kvm_sregs s = v.sregs();
    kvm_segment code{};
    code.base = 0;
    code.limit = 0xffffffff;
    code.selector = 0x08;
    code.type = 0xb;  // execute/read, accessed
    code.present = 1;
    code.s = 1;
    code.db = 1;  // 32-bit
    code.g = 1;
    kvm_segment data = code;
    data.selector = 0x10;
    data.type = 0x3;  // read/write, accessed
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.cr0 = 0x11;  // PE | ET: protected mode, paging off
    s.cr4 = 0;
    s.efer = 0;
    v.set_sregs(s);
    kvm_regs r{};
    r.rip = b.rip;
    r.rdi = b.rdi;
    r.rflags = 0x2;
    v.set_regs(r);
}

void KvmCocoSink::set_cpuid(unsigned id, std::span<const kvm_cpuid_entry2> entries) {
    vcpu(id).set_cpuid(entries);
}

std::vector<kvm_cpuid_entry2> KvmCocoSink::supported_cpuid() { return sys_->supported_cpuid(); }

uint8_t* KvmCocoSink::add_memory(uint32_t slot, uint64_t gpa, uint64_t size, bool private_mem) {
    MemslotSpec spec{slot, gpa, size, 0,
                     private_mem ? Backing::GuestMemfdPrivate : Backing::Anonymous};
    slots_.push_back(std::make_unique<Memslot>(*vm_, spec));
    if (!private_mem) {
        uint8_t* host = slots_.back()->host();
        // SEV/SEV-ES memory is encrypted in place and bound to its physical pages: register it,
        // so KVM keeps it pinned once LAUNCH_UPDATE_DATA has encrypted it (compaction or KSM
        // moving ciphertext would hand the guest garbage).
        if (vm_->type() == uapi::VmType::Sev || vm_->type() == uapi::VmType::SevEs) {
            kvm_enc_region r{reinterpret_cast<uint64_t>(host), size};
            if (::ioctl(vm_->fd(), KVM_MEMORY_ENCRYPT_REG_REGION, &r) < 0)
                throw KvmError("KVM_MEMORY_ENCRYPT_REG_REGION", errno,
                               fmt::format("addr={:#x} size={:#x}", r.addr, r.size));
        }
        return host;
    }
    Errno e = vm_->try_set_memory_attributes(gpa, size, uapi::kMemoryAttributePrivate);
    if (!e.ok())
        throw KvmError("KVM_SET_MEMORY_ATTRIBUTES", e.value,
                       fmt::format("gpa={:#x} size={:#x} PRIVATE", gpa, size));
    return nullptr;
}

uint64_t wait_for_coco_report(Vcpu& v) {
    for (;;) {
        Errno e = v.try_run();
        if (e == EINTR) continue;
        if (!e.ok()) throw KvmError("KVM_RUN", e.value, fmt::format("coco vCPU {}", v.id()));
        const kvm_run& run = v.run_state();
        if (run.exit_reason == KVM_EXIT_IO && run.io.port == COCO_REPORT_PORT &&
            run.io.direction == KVM_EXIT_IO_OUT && run.io.size == 4) {
            uint32_t value;
            std::memcpy(&value, reinterpret_cast<const uint8_t*>(&run) + run.io.data_offset, 4);
            return value;
        }
        if (run.exit_reason == KVM_EXIT_SYSTEM_EVENT &&
            run.system_event.type == uapi::kSystemEventSevTerm) {
            const uint64_t ghcb = run.system_event.data[0];
            if (((ghcb >> 12) & 0xf) != COCO_GHCB_REASON_SET)
                throw std::runtime_error(fmt::format(
                    "guest terminated with GHCB MSR {:#x}, not kvmrace's reason set {:#x}", ghcb,
                    COCO_GHCB_REASON_SET));
            return (ghcb >> 16) & 0xff;
        }
        if (run.exit_reason == KVM_EXIT_SYSTEM_EVENT &&
            run.system_event.type == uapi::kSystemEventTdxFatal)
            throw std::runtime_error("the TD reported a fatal error (TDVMCALL<ReportFatalError>)");
        throw std::runtime_error(
            fmt::format("unexpected exit {} from a confidential guest", run.exit_reason));
    }
}

}  // namespace kvmrace
