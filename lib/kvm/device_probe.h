// Is the device that opened really KVM? A bind-mounted /dev/null or another driver's node opens
// fine and then fails every KVM ioctl; asking KVM_GET_API_VERSION once says so up front.
#pragma once

#include <string>

namespace kvmrace {

// Empty when `device` answers KVM_GET_API_VERSION with KVM_API_VERSION (or cannot be opened at
// all: that is System::probe's errno); else why it is not KVM, e.g. "/dev/kvm is not a KVM device:
// KVM_GET_API_VERSION failed: ENOTTY (Inappropriate ioctl for device)".
std::string not_kvm_reason(const std::string& device);

}  // namespace kvmrace
