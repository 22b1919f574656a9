#include "kvm/sev_vm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "coco/report_abi.h"
#include "kvm/kvm_error.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"

namespace kvmrace {

namespace {
constexpr uint64_t kPage = 4096;
}

std::string_view sev_command_name(uint32_t id) {
    switch (id) {
        case uapi::kSevLaunchStart: return "KVM_SEV_LAUNCH_START";
        case uapi::kSevLaunchUpdateData: return "KVM_SEV_LAUNCH_UPDATE_DATA";
        case uapi::kSevLaunchUpdateVmsa: return "KVM_SEV_LAUNCH_UPDATE_VMSA";
        case uapi::kSevLaunchMeasure: return "KVM_SEV_LAUNCH_MEASURE";
        case uapi::kSevLaunchFinish: return "KVM_SEV_LAUNCH_FINISH";
        case uapi::kSevGuestStatus: return "KVM_SEV_GUEST_STATUS";
        case uapi::kSevInit2: return "KVM_SEV_INIT2";
        case uapi::kSevSnpLaunchStart: return "KVM_SEV_SNP_LAUNCH_START";
        case uapi::kSevSnpLaunchUpdate: return "KVM_SEV_SNP_LAUNCH_UPDATE";
        case uapi::kSevSnpLaunchFinish: return "KVM_SEV_SNP_LAUNCH_FINISH";
    }
    return "KVM_SEV_?";
}

SevResult SevCommands::try_issue(uint32_t id, void* data) {
    uapi::SevCmd c{};
    c.id = id;
    c.data = reinterpret_cast<uint64_t>(data);
    c.sev_fd = static_cast<uint32_t>(sev_fd_);
    Errno e = sink_->encrypt_op(sev_command_name(id), -1, &c);
    return SevResult{e, c.error};
}

void SevCommands::issue(uint32_t id, void* data, const std::string& args) {
    SevResult r = try_issue(id, data);
    if (r.ok()) return;
    throw KvmError(fmt::format("KVM_MEMORY_ENCRYPT_OP({})", sev_command_name(id)), r.err.value,
                   fmt::format("fw_error={} ({}){}{}", r.fw_error, sev_fw_error_name(r.fw_error),
                               args.empty() ? "" : " ", args));
}

void SevCommands::init2(uint16_t ghcb_version, uint64_t vmsa_features) {
    uapi::SevInit init{};
    init.vmsa_features = vmsa_features;
    init.ghcb_version = ghcb_version;
    issue(uapi::kSevInit2, &init,
          fmt::format("ghcb_version={} vmsa_features={:#x}", ghcb_version, vmsa_features));
}

void SevCommands::launch_start(uint32_t policy) {
    uapi::SevLaunchStart s{};
    s.policy = policy;
    issue(uapi::kSevLaunchStart, &s, fmt::format("policy={:#x}", policy));
}

void SevCommands::launch_update_data(uint64_t uaddr, uint32_t len) {
    uapi::SevLaunchUpdateData u{};
    u.uaddr = uaddr;
    u.len = len;
    issue(uapi::kSevLaunchUpdateData, &u, fmt::format("uaddr={:#x} len={:#x}", uaddr, len));
}

void SevCommands::launch_update_vmsa() { issue(uapi::kSevLaunchUpdateVmsa, nullptr, ""); }

std::vector<uint8_t> SevCommands::launch_measure() {
    // len 0 queries the blob's size: the firmware answers it (with an error status that KVM
    // passes on) in len, so only a zero len after the query is a failure.
    uapi::SevLaunchMeasure m{};
    SevResult r = try_issue(uapi::kSevLaunchMeasure, &m);
    if (m.len == 0)
        throw KvmError("KVM_MEMORY_ENCRYPT_OP(KVM_SEV_LAUNCH_MEASURE)", r.ok() ? EIO : r.err.value,
                       fmt::format("fw_error={} ({}) size query returned len 0", r.fw_error,
                                   sev_fw_error_name(r.fw_error)));
    std::vector<uint8_t> blob(m.len);
    m.uaddr = reinterpret_cast<uint64_t>(blob.data());
    issue(uapi::kSevLaunchMeasure, &m, fmt::format("len={}", m.len));
    blob.resize(m.len);
    return blob;
}

void SevCommands::launch_finish() { issue(uapi::kSevLaunchFinish, nullptr, ""); }

void SevCommands::snp_launch_start(uint64_t policy) {
    uapi::SnpLaunchStart s{};
    s.policy = policy;
    issue(uapi::kSevSnpLaunchStart, &s, fmt::format("policy={:#x}", policy));
}

SevResult SevCommands::try_snp_launch_update(uapi::SnpLaunchUpdate& u) {
    return try_issue(uapi::kSevSnpLaunchUpdate, &u);
}

void SevCommands::snp_launch_update(uint64_t gpa, uint64_t uaddr, uint64_t len, uint8_t type) {
    uapi::SnpLaunchUpdate u{};
    u.gfn_start = gpa / kPage;
    u.uaddr = uaddr;
    u.len = len;
    u.type = type;
    // KVM may stop early (a signal): go on from where it left off.
    while (u.len > 0) {
        const uint64_t before = u.len;
        issue(uapi::kSevSnpLaunchUpdate, &u,
              fmt::format("gfn_start={:#x} uaddr={:#x} len={:#x} type={}", u.gfn_start, u.uaddr,
                          u.len, u.type));
        if (u.len >= before)
            throw KvmError("KVM_MEMORY_ENCRYPT_OP(KVM_SEV_SNP_LAUNCH_UPDATE)", EIO,
                           fmt::format("returned 0 without progress: gfn_start={:#x} len={:#x}",
                                       u.gfn_start, u.len));
    }
}

void SevCommands::snp_launch_finish() {
    uapi::SnpLaunchFinish f{};
    issue(uapi::kSevSnpLaunchFinish, &f, "");
}

SevLaunchRecord launch_sev_family(CocoSink& sink, SevCommands& cmds, uapi::VmType type,
                                  const LaunchImage& image, uint64_t report_method,
                                  LaunchStop stop) {
    const bool es = type != uapi::VmType::Sev;
    const bool snp = type == uapi::VmType::Snp;
    SevLaunchRecord rec;
    // GHCB protocol 2 is what KVM defaults to for SEV-ES and requires for SNP; SEV has none.
    cmds.init2(es ? 2 : 0);
    uint8_t* host = sink.add_memory(0, image.slot_gpa, image.slot_size, snp);
    sink.create_vcpu(0);
    sink.set_boot_state(0, BootState{image.entry, report_method});
    if (snp) {
        cmds.snp_launch_start(uapi::kSnpPolicyRsvdMbo | uapi::kSnpPolicySmt);
        for (const LaunchChunk& c : image.chunks) {
            Mapping src = page_aligned_copy(c.bytes);
            cmds.snp_launch_update(c.gpa, src.address(), src.size(), uapi::kSnpPageTypeNormal);
        }
        if (stop == LaunchStop::Complete) finish_sev_family(cmds, type, rec);
        return rec;
    }
    cmds.launch_start(kSevPolicyNoDbg | (es ? kSevPolicyEs : 0));
    for (const LaunchChunk& c : image.chunks) {
        // LAUNCH_UPDATE_DATA encrypts the guest's own memory in place.
        uint8_t* dst = host + (c.gpa - image.slot_gpa);
        std::copy(c.bytes.begin(), c.bytes.end(), dst);
        cmds.launch_update_data(reinterpret_cast<uint64_t>(dst),
                                static_cast<uint32_t>(c.bytes.size()));
    }
    if (stop == LaunchStop::Complete) finish_sev_family(cmds, type, rec);
    return rec;
}

void finish_sev_family(SevCommands& cmds, uapi::VmType type, SevLaunchRecord& rec) {
    if (type == uapi::VmType::Snp) {
        cmds.snp_launch_finish();  // also encrypts every vCPU's VMSA
        return;
    }
    if (type == uapi::VmType::SevEs) cmds.launch_update_vmsa();
    rec.measurement = cmds.launch_measure();
    cmds.launch_finish();
}

SevVm::SevVm(const System& sys, uapi::VmType type, const std::string& sev_device)
    : type_(type), dev_(sev_device), sink_(sys, type), cmds_(sink_, dev_.fd()) {}

SevLaunchRecord SevVm::launch(const LaunchImage& image) {
    return launch_sev_family(sink_, cmds_, type_, image,
                             type_ == uapi::VmType::Sev ? COCO_REPORT_PIO : COCO_REPORT_GHCB);
}

uint64_t SevVm::run_to_report() { return wait_for_coco_report(sink_.vcpu(0)); }

}  // namespace kvmrace
