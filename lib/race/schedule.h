// Reproducible timing: every random choice of a racing thread derives from (seed, stream), so a
// printed seed replays the same jitter schedule; plus pinning racing threads to distinct CPUs.
#pragma once

#include <cstdint>
#include <random>

namespace kvmrace {

class Schedule {
public:
    Schedule(uint64_t seed, unsigned stream) : rng_(seed * 0x9E3779B97F4A7C15ull + stream) {}
    uint64_t next() { return rng_(); }
    // Busy-waits a random 0..max_us microseconds (a spin, not a sleep: it only shifts start times).
    void jitter(unsigned max_us);

private:
    std::mt19937_64 rng_;
};

// Pins the calling thread to the index-th CPU it may run on (mod their count), preferring CPUs of
// NUMA node 0 when libnuma reports NUMA. Returns the CPU, or -1 if pinning failed.
int pin_to_cpu(unsigned index);

}  // namespace kvmrace
