// The hypervisor this process runs under, from CPUID: where the kernel under test is itself a
// guest (a nested run in QEMU), faults of the emulated virtualization are not the kernel's.
#pragma once

#include <string>

namespace kvmrace {

// The vendor signature of CPUID leaf 0x40000000 when CPUID.1:ECX[31] says there is a
// hypervisor ("TCGTCGTCGTCG" under QEMU's TCG, "KVMKVMKVM" under KVM); "" on bare metal.
std::string hypervisor_signature();

// QEMU's TCG: the SVM and NPT that KVM uses here are emulated by QEMU, not hardware.
bool under_qemu_tcg(const std::string& signature);

// "bare metal", or e.g. "QEMU TCG (CPUID 0x40000000 'TCGTCGTCGTCG'), SVM and NPT emulated".
std::string describe_platform(const std::string& signature);

}  // namespace kvmrace
