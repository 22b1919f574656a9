#include "race/schedule.h"

#include <numa.h>
#include <sched.h>

#include <vector>

#include "watchdog/progress_board.h"

namespace kvmrace {

void Schedule::jitter(unsigned max_us) {
    if (max_us == 0) return;
    uint64_t until = monotonic_ns() + (next() % (uint64_t(max_us) + 1)) * 1000;
    while (monotonic_ns() < until) asm volatile("pause");
}

int pin_to_cpu(unsigned index) {
    std::vector<int> cpus;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    bool numa = numa_available() >= 0 && numa_max_node() > 0;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed) && (!numa || numa_node_of_cpu(c) == 0)) cpus.push_back(c);
    if (cpus.empty()) return -1;
    int cpu = cpus[index % cpus.size()];
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? cpu : -1;
}

}  // namespace kvmrace
