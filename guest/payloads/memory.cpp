#include "payloads/memory.h"

#include "runtime.h"

using namespace kvmrace::payload::memory;
using kvmrace::abi::kPageSize;
using kvmrace::abi::LoopControl;

extern "C" uint64_t guest_main(uint64_t mode, uint64_t base, uint64_t size, uint64_t a3) {
    switch (mode) {
        case kFill: guest::fill_pattern(base, size, a3); return 0;
        case kVerify: guest::verify_pattern(base, size, a3); return 0;
        case kTouchPages: {
            uint64_t n = 0;
            for (unsigned i = 0; i < 64; ++i)
                if (a3 & (1ull << i)) {
                    guest::write64(base + i * kPageSize + 8 * i, i + 1);
                    ++n;
                }
            return n;
        }
        case kChurn: {
            auto* ctl = reinterpret_cast<LoopControl*>(a3);
            uint64_t pass = 0;
            while (!ctl->stop) {
                ++pass;
                guest::fill_pattern(base, size, pass);
                guest::verify_pattern(base, size, pass);
                ctl->passes = pass;
                guest::sync(pass);
            }
            return pass;
        }
        case kReadAll: {
            uint64_t x = 0;
            for (uint64_t a = base; a < base + size; a += 8) x ^= guest::read64(a);
            return x;
        }
    }
    GUEST_ASSERT(false, "unknown mode %lu", mode);
    return 0;
}
