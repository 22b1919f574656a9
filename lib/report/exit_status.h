// kvmrace's exit status, every value in one place. 0, 1 and 4 are kselftest's (KSFT_PASS,
// KSFT_FAIL, KSFT_SKIP); 2 is the usual usage error; 5 is ours (kselftest's 3 is KSFT_XPASS).
#pragma once

namespace kvmrace {

inline constexpr int kExitPass = 0;   // every test that ran passed
inline constexpr int kExitFail = 1;   // a test failed, or a report could not be written at the end
inline constexpr int kExitUsage = 2;  // bad command line, or an output file that cannot be opened
inline constexpr int kExitSkip = 4;  // nothing passed: everything skipped (e.g. no /dev/kvm access)
inline constexpr int kExitNotKvm =
    5;  // the device opens but is not KVM (KVM_GET_API_VERSION fails)
// An errata probe's livelock was not freed by a signal: the kernel is wedged, no test ran on it.
inline constexpr int kExitWedged = 6;

}  // namespace kvmrace
