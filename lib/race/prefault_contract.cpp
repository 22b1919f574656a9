#include "race/prefault_contract.h"

#include <cerrno>

#include <fmt/format.h>

namespace kvmrace {

std::string check_prefault_call(const PrefaultResult& r, const CallWindow& w) {
    const bool shrank = r.size_after < r.size_before;
    const auto call = [&] {
        return fmt::format(
            "KVM_PRE_FAULT_MEMORY(gpa={:#x}, size={:#x}) = {} ({}) -> gpa={:#x} size={:#x}",
            r.gpa_before, r.size_before, r.ret, r.err.describe(), r.gpa_after, r.size_after);
    };
    if (shrank == (r.ret < 0)) return "(size shrank) XOR (ret < 0) broken: " + call();
    if (r.size_after > r.size_before) return "size grew: " + call();
    if (r.gpa_after - r.gpa_before != r.size_before - r.size_after)
        return "gpa did not advance by what size lost: " + call();
    if (r.ret >= 0) return "";
    switch (r.err.value) {
        case EAGAIN:
            if (!w.invalidation_overlapped)
                return "EAGAIN with no delete/move of the slot in flight: " + call();
            return "";
        case ENOENT:
            if (w.private_gpa)
                return "ENOENT for a private GPA (no memslot must be EFAULT): " + call();
            if (!w.absence_overlapped) return "ENOENT while a slot covered the GPA: " + call();
            return "";
        case EINTR:
            if (!w.signalled) return "EINTR without a signal: " + call();
            return "";
        case EFAULT:
            if (w.private_gpa && w.absence_overlapped) return "";
            if (w.conversion_overlapped) return "";
            return "EFAULT for a valid, backed range: " + call();
        case EINVAL:
        case EIO:
        case EOPNOTSUPP:
            return "documented but unexpected errno for a valid, backed range: " + call();
        default: return "errno outside the documented set: " + call();
    }
}

Counter prefault_outcome(const PrefaultResult& r) {
    if (r.ret >= 0) return Counter::PrefaultOk;
    switch (r.err.value) {
        case EAGAIN: return Counter::PrefaultEagain;
        case ENOENT:
        case EFAULT: return Counter::PrefaultEnoent;
        case EINTR: return Counter::PrefaultEintr;
        default: return Counter::PrefaultOther;
    }
}

std::string eagain_never_seen(uint64_t eagain, uint64_t iterations, const KernelVersion& k) {
    if (eagain > 0 || k < kEagainSince) return "";
    return fmt::format(
        "the race window was never hit: 0 EAGAIN in {} iterations on {} (>= {} answers EAGAIN "
        "when a deleted/moved slot meets a prefault)",
        iterations, k.str(), kEagainSince.str());
}

}  // namespace kvmrace
