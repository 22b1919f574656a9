#include "race/populate_contract.h"

#include <fmt/format.h>

namespace kvmrace {

namespace {
constexpr uint64_t kPage = 4096;

std::string describe(PopulateKind k, const PopulateCall& c) {
    // KVM copies kvm_tdx_cmd back only for VM-scope commands: TDX has no status to show here.
    return fmt::format(
        "{} gpa {:#x}->{:#x} src {:#x}->{:#x} bytes {:#x}->{:#x}: {}{}",
        k == PopulateKind::Snp ? "KVM_SEV_SNP_LAUNCH_UPDATE" : "KVM_TDX_INIT_MEM_REGION",
        c.gpa_before, c.gpa_after, c.src_before, c.src_after, c.bytes_before, c.bytes_after,
        c.err.ok() ? "ok" : c.err.describe(),
        k == PopulateKind::Snp ? fmt::format(" (firmware status {:#x})", c.fw_error) : "");
}
}  // namespace

std::string check_populate_call(PopulateKind k, const PopulateCall& c, const PopulateWindow& w) {
    const std::string call = describe(k, c);
    if (c.bytes_after > c.bytes_before) return "size grew: " + call;
    const uint64_t consumed = c.bytes_before - c.bytes_after;
    if (consumed % kPage) return "consumed a partial page: " + call;
    if (c.gpa_after - c.gpa_before != consumed || c.src_after - c.src_before != consumed)
        return "gpa/source did not advance by what the size lost: " + call;
    if (c.err.ok()) {
        if (k == PopulateKind::Snp && consumed == 0)
            return "success without progress (userspace would loop forever): " + call;
        if (k == PopulateKind::Tdx && c.bytes_after != 0)
            return "success with pages left (the TDX loop only stops early on an error): " + call;
        return "";
    }
    if (k == PopulateKind::Snp && consumed != 0)
        return "failed but reported progress (KVM only copies the range back on success): " + call;
    // What 6.18.2 can answer to a populate racing a memslot delete or a PUNCH_HOLE: both are
    // serialized against it (slots_lock; the guest_memfd invalidate lock), so the only
    // race-made failure is the slot being gone (EINVAL, checked under slots_lock). A signal
    // ends it with EINTR on TDX, and on SNP with EIO (snp_launch_update() turns any populate
    // failure into EIO). Anything else (EIO from a failed TDH.MEM.PAGE.ADD or an RMP update,
    // EFAULT, ENOMEM) is a bug the race exposed.
    const int e = c.err.value;
    if (e == EINVAL)
        return w.slot_change_overlapped
                   ? ""
                   : fmt::format("{} with no slot change in flight: {}", c.err.describe(), call);
    if (e == EINTR && k == PopulateKind::Tdx)
        return w.signalled ? "" : "EINTR without a signal: " + call;
    if (e == EIO && k == PopulateKind::Snp)
        return w.signalled ? "" : "EIO (a failed populate) without a signal: " + call;
    return "errno outside the documented set: " + call;
}

}  // namespace kvmrace
