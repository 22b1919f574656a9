// Protocol of the "memory" payload: pattern fill/verify, page-exact writes, and the churn loop
// that runs while the host mutates the memslot under it.
#pragma once

#include <stdint.h>

namespace kvmrace::payload::memory {

enum Mode : uint64_t {
    kFill = 1,        // fill [a1, a1+a2) with pattern seed a3; DONE
    kVerify = 2,      // verify it; ASSERT on the first mismatch; DONE
    kTouchPages = 3,  // for each bit i of a3: write one word in page i of [a1, ...); DONE(popcount)
    kChurn = 4,       // passes over [a1, a1+a2): fill with seed=pass, verify, SYNC(pass), until
                      // LoopControl at a3 says stop; DONE(passes)
    kReadAll = 5,     // read every word of [a1, a1+a2); DONE(xor of all words)
};

}  // namespace kvmrace::payload::memory
