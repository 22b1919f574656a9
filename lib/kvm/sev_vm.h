// SEV, SEV-ES and SNP VMs: the KVM_MEMORY_ENCRYPT_OP commands (checked and try_ forms, every
// failure naming the command, errno, firmware status and arguments), the launch flows, and SevVm,
// the one RAII owner of such a VM, its /dev/sev fd, vCPU and memory.
//
// Flows (Documentation/virt/kvm/x86/amd-memory-encryption.rst, v6.18):
//   SEV:    INIT2, LAUNCH_START, LAUNCH_UPDATE_DATA..., LAUNCH_MEASURE, LAUNCH_FINISH
//   SEV-ES: INIT2, vCPU + state, LAUNCH_START, LAUNCH_UPDATE_DATA..., LAUNCH_UPDATE_VMSA,
//           LAUNCH_MEASURE, LAUNCH_FINISH
//   SNP:    INIT2, guest_memfd memory (PRIVATE), vCPU + state, SNP_LAUNCH_START,
//           SNP_LAUNCH_UPDATE..., SNP_LAUNCH_FINISH (which encrypts the VMSAs)
// vCPUs must be created after INIT2 (KVM refuses INIT2 once a vCPU exists).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvm/coco_sink.h"
#include "kvm/errno_result.h"
#include "kvm/sev_device.h"
#include "kvm/uapi.h"

namespace kvmrace {

std::string_view sev_command_name(uint32_t id);  // "KVM_SEV_SNP_LAUNCH_UPDATE"

// The outcome of one command that a test expects may fail.
struct SevResult {
    Errno err;
    uint32_t fw_error = 0;  // kvm_sev_cmd.error
    bool ok() const { return err.ok(); }
};

class SevCommands {
public:
    SevCommands(CocoSink& sink, int sev_fd) : sink_(&sink), sev_fd_(sev_fd) {}

    SevResult try_issue(uint32_t id, void* data);
    // Throws KvmError("KVM_MEMORY_ENCRYPT_OP(KVM_SEV_...)", errno, "fw_error=... ; args").
    void issue(uint32_t id, void* data, const std::string& args);

    void init2(uint16_t ghcb_version, uint64_t vmsa_features = 0);
    void launch_start(uint32_t policy);
    void launch_update_data(uint64_t uaddr, uint32_t len);
    void launch_update_vmsa();
    std::vector<uint8_t> launch_measure();  // the launch digest blob
    void launch_finish();
    void snp_launch_start(uint64_t policy);
    // KVM_SEV_SNP_LAUNCH_UPDATE; on return `u` says what is left (gfn_start/uaddr/len advanced).
    SevResult try_snp_launch_update(uapi::SnpLaunchUpdate& u);
    void snp_launch_update(uint64_t gpa, uint64_t uaddr, uint64_t len, uint8_t type);
    void snp_launch_finish();

private:
    CocoSink* sink_;
    int sev_fd_;
};

// SEV policy: bit 0 NODBG; bit 2 ES is required for SEV-ES guests.
inline constexpr uint32_t kSevPolicyNoDbg = 1u << 0;
inline constexpr uint32_t kSevPolicyEs = 1u << 2;

struct SevLaunchRecord {
    std::vector<uint8_t> measurement;  // SEV/SEV-ES: LAUNCH_MEASURE's blob; SNP: empty
};

// Runs a flow from the header comment on `sink` for `image` (vCPU 0 boots at image.entry with
// rdi = `report_method`). Pure sequencing: every kernel interaction goes through the sink.
SevLaunchRecord launch_sev_family(CocoSink& sink, SevCommands& cmds, uapi::VmType type,
                                  const LaunchImage& image, uint64_t report_method,
                                  LaunchStop stop = LaunchStop::Complete);
// The rest of a flow stopped at BeforeFinish: [LAUNCH_UPDATE_VMSA,] LAUNCH_MEASURE, LAUNCH_FINISH
// or SNP_LAUNCH_FINISH.
void finish_sev_family(SevCommands& cmds, uapi::VmType type, SevLaunchRecord& rec);

// A launched SEV/SEV-ES/SNP VM with one vCPU.
class SevVm {
public:
    // Creates the VM (type Sev, SevEs or Snp), opens /dev/sev; throws KvmError on failure.
    SevVm(const System& sys, uapi::VmType type, const std::string& sev_device = "/dev/sev");

    uapi::VmType type() const { return type_; }
    KvmCocoSink& sink() { return sink_; }
    SevCommands& commands() { return cmds_; }
    const SevDevice& device() const { return dev_; }

    // The whole flow with `image`; the payload reports by PIO (SEV) or GHCB MSR (SEV-ES, SNP).
    SevLaunchRecord launch(const LaunchImage& image);
    // KVM_RUN on vCPU 0 until the guest reports: SEV returns the PIO value, SEV-ES/SNP the GHCB
    // termination reason code. Throws on any other exit.
    uint64_t run_to_report();

private:
    uapi::VmType type_;
    SevDevice dev_;
    KvmCocoSink sink_;
    SevCommands cmds_;
};

}  // namespace kvmrace
