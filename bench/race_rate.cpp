// kvmrace-bench: is the race engine as fast as the ioctls it issues? Runs the same sequence
// (prefault a 4 MiB slot, delete + re-create the slot, prefault it again) as a bare loop of raw
// ioctls, then through the engine (PrefaultAfterRecreate, supervised child, progress board,
// contract checks), and prints both rates and their ratio. Needs KVM_PRE_FAULT_MEMORY (use
// scripts/vm-run --binary build/kvmrace-bench on a kernel that has it).
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "kvm/uapi.h"
#include "race/race_config.h"
#include "watchdog/supervisor.h"

using namespace kvmrace;

namespace {

constexpr uint64_t kBase = 0x40000000, kSize = 4ull << 20;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "kvmrace-bench: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

void prefault_all(int vcpu) {
    uapi::PreFaultMemory r{};
    r.gpa = kBase;
    r.size = kSize;
    while (r.size)
        if (ioctl(vcpu, uapi::kPreFaultMemory, &r) < 0 && errno != EAGAIN)
            die("KVM_PRE_FAULT_MEMORY");
}

// The bare loop: no harness at all, one thread, the same ioctls the engine's scenario issues.
double bare_loop(uint64_t iterations) {
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    void* mem = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uapi::UserspaceMemoryRegion2 slot{};
    slot.slot = 1;
    slot.guest_phys_addr = kBase;
    slot.memory_size = kSize;
    slot.userspace_addr = reinterpret_cast<uint64_t>(mem);
    if (ioctl(vm, uapi::kSetUserMemoryRegion2, &slot) < 0) die("KVM_SET_USER_MEMORY_REGION2");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < iterations; ++i) {
        prefault_all(vcpu);
        uapi::UserspaceMemoryRegion2 del = slot;
        del.memory_size = 0;
        if (ioctl(vm, uapi::kSetUserMemoryRegion2, &del) < 0) die("delete");
        if (ioctl(vm, uapi::kSetUserMemoryRegion2, &slot) < 0) die("re-add");
        prefault_all(vcpu);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    close(vcpu);
    close(vm);
    close(kvm);
    munmap(mem, kSize);
    return double(iterations) / s;
}

constexpr const char* kUsage =
    "usage: kvmrace-bench [ITERATIONS]\n"
    "Runs prefault / delete + re-create / prefault ITERATIONS times (default 2000) as a bare\n"
    "ioctl loop and through the race engine, and prints both rates and their ratio.\n"
    "Needs KVM_PRE_FAULT_MEMORY: scripts/vm-run --kernel K --binary build/kvmrace-bench -- 2000\n";

}  // namespace

int main(int argc, char** argv) {
    uint64_t iterations = 2000;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a == "--json" && i + 1 < argc) {  // vm-run's flags: no record, nothing to force here
            ++i;
            continue;
        }
        if (a.starts_with("--")) continue;
        iterations = std::strtoull(argv[i], nullptr, 10);
    }
    if (iterations == 0) {
        std::fprintf(stderr, "usage: kvmrace-bench [ITERATIONS]\n");
        return 2;
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    int cap = ioctl(kvm, KVM_CHECK_EXTENSION, uapi::kCapPreFaultMemory);
    close(kvm);
    if (cap <= 0) {
        std::printf(
            "SKIP  KVM_CAP_PRE_FAULT_MEMORY=%d (cap 236): run it in scripts/vm-run\n0 passed, 0 "
            "failed, 1 skipped\n",
            cap);
        return 4;
    }
    const Scenario* s = nullptr;
    for (const Scenario& c : scenario_catalog())
        if (c.name == "PrefaultAfterRecreate_Anon") s = &c;
    RaceConfig cfg;
    cfg.iterations = iterations;
    cfg.pin = false;
    double bare = bare_loop(iterations);
    SupervisedRun r =
        supervise([&](ProgressBoard& b) { run_scenario(*s, cfg, b); }, SupervisorOptions{});
    // The engine's own time: the child's whole run, including VM and guest set-up it does once.
    double engine = double(r.counters["iterations"]) / r.duration_s;
    std::printf("bare ioctl loop : %10.1f iterations/s (%llu iterations)\n", bare,
                (unsigned long long)iterations);
    std::printf("race engine     : %10.1f iterations/s (%llu iterations, verdict %s)\n", engine,
                (unsigned long long)r.counters["iterations"],
                std::string(verdict_name(r.verdict)).c_str());
    double ratio = engine / bare;
    std::printf("engine / bare   : %10.1f %%\n", 100 * ratio);
    bool ok = r.verdict == Verdict::Pass && ratio >= 0.9;
    std::printf("%d passed, %d failed, 0 skipped\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
