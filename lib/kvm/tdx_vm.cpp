#include "kvm/tdx_vm.h"

#include <cstring>

#include <fmt/format.h>

#include "coco/report_abi.h"
#include "kvm/kvm_error.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace kvmrace {

namespace {
constexpr uint64_t kPage = 4096;
constexpr unsigned kMaxCpuid = 256;        // KVM_MAX_CPUID_ENTRIES
constexpr uint32_t kX2apicBit = 1u << 21;  // CPUID.1:ECX

// A kvm_cpuid2-shaped buffer: the fixed part `Head` (ending in a Cpuid2Header) then entries.
template <typename Head>
struct CpuidBuffer {
    explicit CpuidBuffer(unsigned capacity)
        : bytes(sizeof(Head) + capacity * sizeof(kvm_cpuid_entry2)) {
        head()->cpuid.nent = capacity;
    }
    Head* head() { return reinterpret_cast<Head*>(bytes.data()); }
    kvm_cpuid_entry2* entries() { return reinterpret_cast<kvm_cpuid_entry2*>(head() + 1); }
    std::vector<uint8_t> bytes;
};
struct BareCpuid {
    uapi::Cpuid2Header cpuid;
};
}  // namespace

std::string_view tdx_command_name(uint32_t id) {
    switch (id) {
        case uapi::kTdxCapabilities: return "KVM_TDX_CAPABILITIES";
        case uapi::kTdxInitVm: return "KVM_TDX_INIT_VM";
        case uapi::kTdxInitVcpu: return "KVM_TDX_INIT_VCPU";
        case uapi::kTdxInitMemRegion: return "KVM_TDX_INIT_MEM_REGION";
        case uapi::kTdxFinalizeVm: return "KVM_TDX_FINALIZE_VM";
        case uapi::kTdxGetCpuid: return "KVM_TDX_GET_CPUID";
    }
    return "KVM_TDX_?";
}

TdxResult TdxCommands::try_issue(uint32_t id, int vcpu, uint32_t flags, uint64_t data) {
    uapi::TdxCmd c{};
    c.id = id;
    c.flags = flags;
    c.data = data;
    Errno e = sink_->encrypt_op(tdx_command_name(id), vcpu, &c);
    return TdxResult{e, c.hw_error, vcpu < 0};
}

void TdxCommands::issue(uint32_t id, int vcpu, uint32_t flags, uint64_t data,
                        const std::string& args) {
    TdxResult r = try_issue(id, vcpu, flags, data);
    if (r.ok()) return;
    throw KvmError(fmt::format("KVM_MEMORY_ENCRYPT_OP({})", tdx_command_name(id)), r.err.value,
                   fmt::format("{}{}{}",
                               r.hw_error_read ? fmt::format("hw_error={:#x}", r.hw_error)
                                               : fmt::format("vcpu={}", vcpu),
                               args.empty() ? "" : " ", args));
}

TdxCaps TdxCommands::capabilities() {
    CpuidBuffer<uapi::TdxCapabilities> buf(kMaxCpuid);
    issue(uapi::kTdxCapabilities, -1, 0, reinterpret_cast<uint64_t>(buf.head()),
          fmt::format("cpuid.nent={}", kMaxCpuid));
    TdxCaps caps{buf.head()->supported_attrs, buf.head()->supported_xfam, {}};
    caps.cpuid.assign(buf.entries(), buf.entries() + buf.head()->cpuid.nent);
    return caps;
}

void TdxCommands::init_vm(uint64_t attributes, uint64_t xfam,
                          std::span<const kvm_cpuid_entry2> cpuid) {
    CpuidBuffer<uapi::TdxInitVm> buf(static_cast<unsigned>(cpuid.size()));
    buf.head()->attributes = attributes;
    buf.head()->xfam = xfam;
    if (!cpuid.empty()) std::memcpy(buf.entries(), cpuid.data(), cpuid.size_bytes());
    issue(uapi::kTdxInitVm, -1, 0, reinterpret_cast<uint64_t>(buf.head()),
          fmt::format("attributes={:#x} xfam={:#x} cpuid.nent={}", attributes, xfam, cpuid.size()));
}

void TdxCommands::init_vcpu(unsigned vcpu, uint64_t rcx) {
    issue(uapi::kTdxInitVcpu, static_cast<int>(vcpu), 0, rcx, fmt::format("rcx={:#x}", rcx));
}

std::vector<kvm_cpuid_entry2> TdxCommands::get_cpuid(unsigned vcpu) {
    CpuidBuffer<BareCpuid> buf(kMaxCpuid);
    issue(uapi::kTdxGetCpuid, static_cast<int>(vcpu), 0, reinterpret_cast<uint64_t>(buf.head()),
          fmt::format("nent={}", kMaxCpuid));
    return {buf.entries(), buf.entries() + buf.head()->cpuid.nent};
}

TdxResult TdxCommands::try_init_mem_region(unsigned vcpu, uapi::TdxInitMemRegion& r, bool measure) {
    return try_issue(uapi::kTdxInitMemRegion, static_cast<int>(vcpu),
                     measure ? uapi::kTdxMeasureMemoryRegion : 0, reinterpret_cast<uint64_t>(&r));
}

void TdxCommands::init_mem_region(unsigned vcpu, uint64_t source, uint64_t gpa, uint64_t pages,
                                  bool measure) {
    uapi::TdxInitMemRegion r{source, gpa, pages};
    // KVM stops early on a signal (EINTR) with the region advanced: go on from there.
    while (r.nr_pages > 0) {
        TdxResult res = try_init_mem_region(vcpu, r, measure);
        if (res.err == EINTR) continue;
        if (!res.ok())
            throw KvmError(
                "KVM_MEMORY_ENCRYPT_OP(KVM_TDX_INIT_MEM_REGION)", res.err.value,
                fmt::format("vcpu={} source={:#x} gpa={:#x} nr_pages={} measure={} (a vCPU-scope "
                            "command: KVM reports no hw_error)",
                            vcpu, r.source_addr, r.gpa, r.nr_pages, measure));
    }
}

void TdxCommands::finalize_vm() { issue(uapi::kTdxFinalizeVm, -1, 0, 0, ""); }

std::vector<kvm_cpuid_entry2> tdx_initial_cpuid(std::span<const kvm_cpuid_entry2> configurable,
                                                std::span<const kvm_cpuid_entry2> supported) {
    std::vector<kvm_cpuid_entry2> out;
    for (const kvm_cpuid_entry2& c : configurable) {
        kvm_cpuid_entry2 e = c;
        const kvm_cpuid_entry2* s = nullptr;
        for (const auto& cand : supported)
            if (cand.function == c.function && cand.index == c.index) s = &cand;
        // A configurable leaf KVM does not report stays as the module's mask says it may be.
        if (s) {
            e.eax &= s->eax;
            e.ebx &= s->ebx;
            e.ecx &= s->ecx;
            e.edx &= s->edx;
        }
        // GuestPhysAddrSize (CPUID.80000008:EAX[23:16]) picks the TD's GPA width; INIT_VM takes
        // only 48 or 52 (tdx.c: setup_tdparams_eptp_controls), and 48 needs no 5-level EPT.
        if (e.function == 0x80000008) e.eax = (e.eax & ~0xff0000u) | (48u << 16);
        out.push_back(e);
    }
    return out;
}

// KVM's CPUID for the vCPU before KVM_TDX_INIT_VCPU: that call turns on x2APIC mode, which
// kvm_apic_set_base() refuses unless the vCPU's CPUID has x2APIC, and a new vCPU has none.
static std::vector<kvm_cpuid_entry2> cpuid_with_x2apic(
    std::span<const kvm_cpuid_entry2> supported) {
    std::vector<kvm_cpuid_entry2> out(supported.begin(), supported.end());
    for (auto& e : out)
        if (e.function == 1) e.ecx |= kX2apicBit;
    return out;
}

void launch_tdx(CocoSink& sink, TdxCommands& cmds, const LaunchImage& image, LaunchStop stop) {
    TdxCaps caps = cmds.capabilities();
    std::vector<kvm_cpuid_entry2> cpuid = tdx_initial_cpuid(caps.cpuid, sink.supported_cpuid());
    sink.enable_split_irqchip();
    cmds.init_vm(0, kTdxXfamFixed & caps.supported_xfam, cpuid);
    sink.create_vcpu(0);
    sink.set_cpuid(0, cpuid_with_x2apic(sink.supported_cpuid()));
    cmds.init_vcpu(0);
    // KVM's view of the vCPU's CPUID must then match what the TDX module virtualizes
    // (intel-tdx.rst: KVM_TDX_INIT_VCPU, then KVM_SET_CPUID2).
    sink.set_cpuid(0, cmds.get_cpuid(0));
    sink.add_memory(0, image.slot_gpa, image.slot_size, true);
    for (const LaunchChunk& c : image.chunks) {
        Mapping src = page_aligned_copy(c.bytes);
        cmds.init_mem_region(0, src.address(), c.gpa, src.size() / kPage, true);
    }
    if (stop == LaunchStop::Complete) cmds.finalize_vm();
}

TdxVm::TdxVm(const System& sys) : sink_(sys, uapi::VmType::Tdx), cmds_(sink_) {}

void TdxVm::launch(const LaunchImage& image) { launch_tdx(sink_, cmds_, image); }

uint64_t TdxVm::run_to_report() { return wait_for_coco_report(sink_.vcpu(0)); }

}  // namespace kvmrace
