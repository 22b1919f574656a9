#include "payloads/basics.h"

#include "runtime.h"

using namespace kvmrace::payload::basics;

extern "C" uint64_t guest_main(uint64_t mode, uint64_t a1, uint64_t a2, uint64_t) {
    switch (mode) {
        case kSyncSequence:
            for (uint64_t i = 1; i <= a1; ++i) guest::sync(i);
            return a1;
        case kAssert:
            GUEST_ASSERT(a1 == 0, "deliberate failure, value %#lx", kAssertLine);
            return 0;
        case kLog: guest::log("answer=%d hex=%#lx str=%s", 42, a1, "ok"); return 0;
        case kReportCpl: return guest::current_cpl();
        case kMmioRead: guest::sync(guest::read64(a1)); return 0;
        case kMmioWrite: guest::write64(a1, a2); return 0;
        case kPortWrite:
            guest::outl(static_cast<uint16_t>(a1), static_cast<uint32_t>(a2));
            return 0;
    }
    GUEST_ASSERT(false, "unknown mode %lu", mode);
    return 0;
}
