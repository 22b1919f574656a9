#include "kvm/sev_device.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "kvm/kvm_error.h"
#include "kvm/mapping.h"

namespace kvmrace {

std::string sev_fw_error_name(uint32_t code) {
    // include/uapi/linux/psp-sev.h, sev_ret_code.
    static constexpr std::array<const char*, 0x28> kNames{
        "SUCCESS",
        "INVALID_PLATFORM_STATE",
        "INVALID_GUEST_STATE",
        "INVALID_CONFIG",
        "INVALID_LEN",
        "ALREADY_OWNED",
        "INVALID_CERTIFICATE",
        "POLICY_FAILURE",
        "INACTIVE",
        "INVALID_ADDRESS",
        "BAD_SIGNATURE",
        "BAD_MEASUREMENT",
        "ASID_OWNED",
        "INVALID_ASID",
        "WBINVD_REQUIRED",
        "DFFLUSH_REQUIRED",
        "INVALID_GUEST",
        "INVALID_COMMAND",
        "ACTIVE",
        "HWSEV_RET_PLATFORM",
        "HWSEV_RET_UNSAFE",
        "UNSUPPORTED",
        "INVALID_PARAM",
        "RESOURCE_LIMIT",
        "SECURE_DATA_INVALID",
        "INVALID_PAGE_SIZE",
        "INVALID_PAGE_STATE",
        "INVALID_MDATA_ENTRY",
        "INVALID_PAGE_OWNER",
        "AEAD_OFLOW",
        nullptr,
        "EXIT_RING_BUFFER",
        "RMP_INIT_REQUIRED",
        "BAD_SVN",
        "BAD_VERSION",
        "SHUTDOWN_REQUIRED",
        "UPDATE_FAILED",
        "RESTORE_REQUIRED",
        "RMP_INITIALIZATION_FAILED",
        "INVALID_KEY",
    };
    if (code == 0xffffffffu) return "NO_FW_CALL";
    if (code < kNames.size() && kNames[code]) return kNames[code];
    return fmt::format("{:#x}", code);
}

std::string SevFirmwareVersion::str() const {
    return fmt::format("{}.{} build {} state {}", api_major, api_minor, build, state);
}

SevDevice::SevDevice(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {
    if (!fd_.valid()) throw KvmError("open", errno, path);
}

Errno SevDevice::probe(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    return Errno{fd.valid() ? 0 : errno};
}

Errno SevDevice::try_issue(uint32_t cmd, void* data, uint32_t* fw_error) const {
    uapi::SevIssueCmd c{};
    c.cmd = cmd;
    c.data = reinterpret_cast<uint64_t>(data);
    int r = ::ioctl(fd(), uapi::kSevIssueCmd, &c);
    if (fw_error) *fw_error = c.error;
    return Errno{r < 0 ? errno : 0};
}

std::optional<SevFirmwareVersion> SevDevice::platform_status() const {
    uapi::SevUserDataStatus s{};
    uint32_t fw = 0;
    if (!try_issue(uapi::kSevPlatformStatus, &s, &fw).ok()) return std::nullopt;
    return SevFirmwareVersion{s.api_major, s.api_minor, s.build, s.state};
}

std::optional<SevFirmwareVersion> SevDevice::snp_platform_status() const {
    // The PSP writes the status through a page-sized, page-aligned buffer.
    Mapping page = Mapping::anonymous(4096);
    uint32_t fw = 0;
    if (!try_issue(uapi::kSnpPlatformStatus, page.data(), &fw).ok()) return std::nullopt;
    uapi::SevUserDataSnpStatus s;
    std::memcpy(&s, page.data(), sizeof s);
    return SevFirmwareVersion{s.api_major, s.api_minor, static_cast<uint8_t>(s.build_id), s.state};
}

}  // namespace kvmrace
