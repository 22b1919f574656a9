// The AMD Secure Processor's SEV device (/dev/sev): the fd the SEV launch commands are issued
// through (kvm_sev_cmd.sev_fd), and the firmware's platform status (API version, state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kvm/errno_result.h"
#include "kvm/uapi.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

// SEV_RET_* name of a firmware status ("INVALID_GUEST_STATE"), "0x<n>" for unknown codes.
std::string sev_fw_error_name(uint32_t code);

struct SevFirmwareVersion {
    uint8_t api_major = 0, api_minor = 0, build = 0;
    uint8_t state = 0;
    std::string str() const;  // "1.55 build 21 state 1"
};

class SevDevice {
public:
    // Throws KvmError("open", errno, path).
    explicit SevDevice(const std::string& path = "/dev/sev");
    static Errno probe(const std::string& path = "/dev/sev");

    int fd() const { return fd_.get(); }
    // SEV_ISSUE_CMD; the firmware status is stored in *fw_error.
    Errno try_issue(uint32_t cmd, void* data, uint32_t* fw_error) const;
    std::optional<SevFirmwareVersion> platform_status() const;      // SEV_PLATFORM_STATUS
    std::optional<SevFirmwareVersion> snp_platform_status() const;  // SNP_PLATFORM_STATUS

private:
    UniqueFd fd_;
};

}  // namespace kvmrace
