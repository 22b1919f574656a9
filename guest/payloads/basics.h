// Protocol of the "basics" payload: ucall round trips, privilege level, MMIO probes.
#pragma once

#include <stdint.h>

namespace kvmrace::payload::basics {

enum Mode : uint64_t {
    kSyncSequence = 1,  // SYNC(1..a1) then DONE(a1)
    kAssert = 2,        // GUEST_ASSERT fails with a known message
    kLog = 3,           // LOG("answer=%d hex=%#lx str=%s", 42, a1, "ok") then DONE
    kReportCpl = 4,     // DONE(current CPL)
    kMmioRead = 5,      // v = *(u64*)a1; SYNC(v); DONE
    kMmioWrite = 6,     // *(u64*)a1 = a2; DONE
    kPortWrite = 7,     // outl(port a1, value a2); DONE
};

inline constexpr uint64_t kAssertLine = 0xA55E7;  // the value the failing assert reports

}  // namespace kvmrace::payload::basics
