#include "kernel/hypervisor.h"

#include <cpuid.h>

#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

std::string hypervisor_signature() {
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31))) return "";
    __cpuid(0x40000000, a, b, c, d);
    char sig[13] = {};
    std::memcpy(sig + 0, &b, 4);
    std::memcpy(sig + 4, &c, 4);
    std::memcpy(sig + 8, &d, 4);
    std::string s(sig);
    return s.empty() ? "unnamed hypervisor" : s;
}

bool under_qemu_tcg(const std::string& signature) { return signature == "TCGTCGTCGTCG"; }

std::string describe_platform(const std::string& signature) {
    if (signature.empty()) return "bare metal";
    if (under_qemu_tcg(signature))
        return fmt::format("QEMU TCG (CPUID 0x40000000 '{}'): SVM and NPT emulated", signature);
    return fmt::format("a guest of hypervisor '{}'", signature);
}

}  // namespace kvmrace
