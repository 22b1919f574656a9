// The contract of one guest_memfd populate call (KVM_SEV_SNP_LAUNCH_UPDATE or
// KVM_TDX_INIT_MEM_REGION) during a race, as a pure function of the call and of what the mutator
// did around it (unit-tested). Both commands take kvm->slots_lock and the guest_memfd's
// invalidate lock, so a memslot delete or PUNCH_HOLE is serialized against them: the call either
// sees the slot/pages or it does not, and must then fail with a documented errno.
#pragma once

#include <cstdint>
#include <string>

#include "kvm/errno_result.h"

namespace kvmrace {

enum class PopulateKind { Snp, Tdx };

// The range as the command's argument described it before and after the call (bytes, GPA and
// source address); `err` is the ioctl's errno (0 on success).
struct PopulateCall {
    uint64_t gpa_before, src_before, bytes_before;
    uint64_t gpa_after, src_after, bytes_after;
    Errno err;
    uint64_t fw_error = 0;  // SNP kvm_sev_cmd.error (TDX: none, INIT_MEM_REGION is vCPU-scope)
};

struct PopulateWindow {
    bool slot_change_overlapped;  // a delete/re-add of the slot overlapped the call
    bool punch_overlapped;        // a PUNCH_HOLE of the range overlapped the call
    bool signalled;               // we signalled the thread (EINTR is then legal)
};

// "" when the call kept the contract, else what it broke:
//  - the three fields move together: gpa and source advance by exactly what the size lost;
//  - SNP: success consumed at least one page, failure consumed nothing (KVM copies the
//    arguments back only on success); TDX: success consumed everything (its loop runs to the
//    end unless it fails), failure may have consumed some pages;
//  - errno in the documented set, as 6.18.2 serializes both commands against memslot updates
//    and PUNCH_HOLE: EINVAL only while a delete/re-add of the slot overlapped the call (no
//    guest_memfd slot at the GFN); a signal ends the call with EINTR on TDX and with EIO on SNP
//    (snp_launch_update() turns any populate failure into EIO), both only when we signalled.
//    Anything else (EFAULT, EIO without a signal, EEXIST: we reset the range between
//    iterations, ENOMEM) is a broken contract. With nothing in flight the call must succeed.
std::string check_populate_call(PopulateKind k, const PopulateCall& c, const PopulateWindow& w);

}  // namespace kvmrace
