// kvmrace-bench: is the race engine as fast and as sharp as the ioctls it issues?
//   kvmrace-bench [ITERATIONS]       the non-concurrent sequence (prefault a 4 MiB slot, delete +
//                                    re-create it, prefault again): bare loop vs engine
//   kvmrace-bench --race [N]         the concurrent delete/re-create race as bare threads (raw
//                                    ioctls, a plain barrier) vs the engine: rates, hit rates,
//                                    ratios. Prefault vs delete where KVM_PRE_FAULT_MEMORY
//                                    exists, else KVM_RUN vs delete (says which)
//   kvmrace-bench --hangs N [S]      N forced HANGs, hang timeout S (default 2): the detection
//                                    latency distribution (a kernel with prefault-eagain when
//                                    this is one, else an injected stuck child; says which)
// Rates: the bare side times its loop; the engine its whole supervised child (with set-up).
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "guest/guest_vm.h"
#include "kernel/errata.h"
#include "kernel/version.h"
#include "kvm/uapi.h"
#include "payloads/memory.h"
#include "race/prefault_contract.h"
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

// What both bare runs share: a VM with the one 4 MiB anonymous slot and a vCPU, raw fds.
struct BareVm {
    int kvm = -1, vm = -1, vcpu = -1;
    void* mem = nullptr;
    uapi::UserspaceMemoryRegion2 slot{};

    BareVm() {
        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) die("/dev/kvm");
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0) die("KVM_CREATE_VM");
        mem = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        slot.slot = 1;
        slot.guest_phys_addr = kBase;
        slot.memory_size = kSize;
        slot.userspace_addr = reinterpret_cast<uint64_t>(mem);
        if (ioctl(vm, uapi::kSetUserMemoryRegion2, &slot) < 0) die("KVM_SET_USER_MEMORY_REGION2");
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu < 0) die("KVM_CREATE_VCPU");
    }
    ~BareVm() {
        close(vcpu);
        close(vm);
        close(kvm);
        munmap(mem, kSize);
    }
    BareVm(const BareVm&) = delete;
    BareVm& operator=(const BareVm&) = delete;
};

// The bare loop: no harness at all, one thread, the same ioctls the engine's scenario issues.
double bare_loop(uint64_t iterations) {
    BareVm b;
    const int vm = b.vm, vcpu = b.vcpu;
    const uapi::UserspaceMemoryRegion2 slot = b.slot;
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
    return double(iterations) / s;
}

struct RaceRate {
    double per_s = 0;
    uint64_t hits = 0, iterations = 0;
    double hit_rate() const { return iterations ? double(hits) / double(iterations) : 0; }
};

// Prefault vs delete/re-create as bare threads: one round = barrier, prefault the range while
// the other thread deletes and re-adds the slot, barrier, prefault it all again. A round is a hit
// when a prefault call overlapped the delete/re-add (the engine's definition).
RaceRate bare_prefault_race(uint64_t iterations) {
    BareVm b;
    const int vm = b.vm, vcpu = b.vcpu;
    const uapi::UserspaceMemoryRegion2 slot = b.slot;
    OperationClock mutations;
    std::atomic<uint64_t> hits{0};
    std::barrier sync(2);
    auto start = std::chrono::steady_clock::now();
    std::thread mutator([&] {
        uapi::UserspaceMemoryRegion2 del = slot;
        del.memory_size = 0;
        for (uint64_t i = 0; i < iterations; ++i) {
            sync.arrive_and_wait();
            mutations.start();
            if (ioctl(vm, uapi::kSetUserMemoryRegion2, &del) < 0) die("delete");
            if (ioctl(vm, uapi::kSetUserMemoryRegion2, &slot) < 0) die("re-add");
            mutations.finish();
            sync.arrive_and_wait();
        }
    });
    for (uint64_t i = 0; i < iterations; ++i) {
        sync.arrive_and_wait();
        uapi::PreFaultMemory r{};
        r.gpa = kBase;
        r.size = kSize;
        bool hit = false;
        while (r.size) {
            WindowProbe probe(mutations);
            if (ioctl(vcpu, uapi::kPreFaultMemory, &r) < 0 && errno != EAGAIN && errno != ENOENT)
                die("KVM_PRE_FAULT_MEMORY");
            hit = hit || probe.overlapped();
        }
        hits += hit;
        sync.arrive_and_wait();
        prefault_all(vcpu);
    }
    mutator.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {double(iterations) / s, hits.load(), iterations};
}

// KVM_RUN vs delete/re-create as bare threads: the engine's guest (2 vCPUs churning a slot at
// CPL3, set up by GuestVm, untimed), then raw KVM_RUN loops that serve MMIO exits from the slot's
// memory, and a raw delete + re-add loop released with them by a plain barrier. A mutation is a
// hit when a vCPU was inside KVM_RUN during it.
RaceRate bare_run_race(uint64_t iterations) {
    constexpr uint64_t kPart = 16 * abi::kPageSize;
    constexpr unsigned kVcpus = 2;
    System sys("/dev/kvm");
    GuestVm g(sys, {PayloadId::Memory, kVcpus, Privilege::Cpl3, false, uapi::VmType::Default});
    Memslot& slot = g.add_slot({1, abi::kDataBase, kPart * kVcpus, 0, Backing::Anonymous});
    for (unsigned i = 0; i < kVcpus; ++i) {
        g.system_object<abi::LoopControl>(abi::kScratchBase + i * 64)->stop = 0;
        g.start(i, {payload::memory::kChurn, abi::kDataBase + i * kPart, kPart,
                    abi::kScratchBase + i * 64});
    }
    const uapi::UserspaceMemoryRegion2 add = slot.region();
    uapi::UserspaceMemoryRegion2 del = add;
    del.memory_size = 0;
    OperationClock runs[kVcpus];
    std::atomic<bool> done{false};
    std::barrier sync(kVcpus + 1);
    std::vector<std::thread> vcpus;
    for (unsigned i = 0; i < kVcpus; ++i)
        vcpus.emplace_back([&, i] {
            const int fd = g.vcpu(i).fd();
            kvm_run& run = g.vcpu(i).run_state();
            sync.arrive_and_wait();
            while (!done.load()) {
                runs[i].start();
                const int ret = ioctl(fd, KVM_RUN, 0);
                runs[i].finish();
                if (ret < 0 && errno != EINTR) die("KVM_RUN");
                if (ret == 0 && run.exit_reason == KVM_EXIT_MMIO) {  // the slot is gone: serve it
                    uint8_t* host = slot.host() + (run.mmio.phys_addr - abi::kDataBase);
                    if (run.mmio.is_write)
                        std::memcpy(host, run.mmio.data, run.mmio.len);
                    else
                        std::memcpy(run.mmio.data, host, run.mmio.len);
                }
            }
        });
    uint64_t hits = 0;
    sync.arrive_and_wait();
    auto start = std::chrono::steady_clock::now();
    for (uint64_t it = 0; it < iterations; ++it) {
        uint64_t before[kVcpus];
        for (unsigned i = 0; i < kVcpus; ++i) before[i] = runs[i].finished.load();
        if (ioctl(g.vm().fd(), uapi::kSetUserMemoryRegion2, &del) < 0) die("delete");
        if (ioctl(g.vm().fd(), uapi::kSetUserMemoryRegion2, &add) < 0) die("re-add");
        bool hit = false;
        for (unsigned i = 0; i < kVcpus; ++i) hit = hit || runs[i].started.load() > before[i];
        hits += hit;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done = true;
    for (unsigned i = 0; i < kVcpus; ++i)
        __atomic_store_n(&g.system_object<abi::LoopControl>(abi::kScratchBase + i * 64)->stop, 1,
                         __ATOMIC_RELEASE);
    for (auto& t : vcpus) t.join();
    return {double(iterations) / s, hits, iterations};
}

const Scenario& scenario(std::string_view name) {
    for (const Scenario& c : scenario_catalog())
        if (c.name == name) return c;
    std::fprintf(stderr, "kvmrace-bench: no scenario %s\n", std::string(name).c_str());
    std::exit(1);
}

int race_mode(uint64_t iterations, bool prefault, unsigned jitter_us) {
    const Scenario& s = scenario(prefault ? "PrefaultVsDelete_Anon" : "RunVsDelete_Anon");
    std::printf("race: %s vs delete/re-create (%s), %llu iterations\n",
                prefault ? "KVM_PRE_FAULT_MEMORY" : "KVM_RUN",
                prefault ? "KVM_PRE_FAULT_MEMORY available"
                         : "no KVM_PRE_FAULT_MEMORY here: the KVM_RUN race instead",
                (unsigned long long)iterations);
    const RaceRate bare = prefault ? bare_prefault_race(iterations) : bare_run_race(iterations);
    RaceConfig cfg;
    cfg.iterations = iterations;
    cfg.jitter_us = jitter_us;
    SupervisedRun r =
        supervise([&](ProgressBoard& b) { run_scenario(s, cfg, b); }, SupervisorOptions{});
    // The race loop's rate, as for the bare threads (whose VM set-up is untimed too); the whole
    // child's (fork, VM and guest set-up, final checks) is printed beside it.
    const double loop_s = double(r.counters["loop_us"]) / 1e6;
    RaceRate engine{loop_s > 0 ? double(r.counters["iterations"]) / loop_s : 0, r.counters["hits"],
                    r.counters["hit_iterations"]};
    const double child_rate = double(r.counters["iterations"]) / r.duration_s;
    std::printf("bare threads : %10.1f iterations/s  hits=%llu/%llu (%.1f %%)\n", bare.per_s,
                (unsigned long long)bare.hits, (unsigned long long)bare.iterations,
                100 * bare.hit_rate());
    std::printf("race engine  : %10.1f iterations/s  hits=%llu/%llu (%.1f %%)  verdict %s (%s)\n",
                engine.per_s, (unsigned long long)engine.hits,
                (unsigned long long)engine.iterations, 100 * engine.hit_rate(),
                std::string(verdict_name(r.verdict)).c_str(), std::string(s.name).c_str());
    std::printf(
        "engine child : %10.1f iterations/s  (%.2fx bare; with fork, VM set-up and the "
        "final checks: %.3f s of %.3f s outside the race loop)\n",
        child_rate, child_rate / bare.per_s, r.duration_s - loop_s, r.duration_s);
    const double rate_ratio = engine.per_s / bare.per_s;
    std::printf("engine / bare: %10.2fx rate (goal >= 0.9x), %.2fx hit rate (goal >= 1x)\n",
                rate_ratio, bare.hit_rate() > 0 ? engine.hit_rate() / bare.hit_rate() : 0.0);
    const bool ok =
        r.verdict == Verdict::Pass && rate_ratio >= 0.9 && engine.hit_rate() >= bare.hit_rate();
    std::printf("%d passed, %d failed, 0 skipped\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}

// A child thread that looks like a prefault stuck in the kernel: marked in KVM_PRE_FAULT_MEMORY
// on the board, blocked in read() on a pipe nobody writes. The supervisor's SIGUSR1 ends the
// read (EINTR, no SA_RESTART), as KVM's signal_pending() check ends a stuck prefault.
void stuck_child(ProgressBoard& b) {
    int p[2];
    if (pipe(p) != 0) throw std::runtime_error("pipe");
    std::thread t([&] {
        unsigned slot = b.join("prefault0");
        InCall in(b, slot, Call::PreFault);
        char c;
        (void)!read(p[0], &c, 1);
    });
    t.join();
    close(p[0]);
    close(p[1]);
}

int hangs_mode(unsigned n, double timeout_s) {
    const Scenario& s = scenario("PrefaultVsDelete_Anon");
    const KernelVersion k = KernelVersion::running();
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    const bool prefault = kvm >= 0 && ioctl(kvm, KVM_CHECK_EXTENSION, uapi::kCapPreFaultMemory) > 0;
    if (kvm >= 0) close(kvm);
    const bool real =
        prefault && !errata_for(race_facts(s), k, ErrataPresence::by_version(k)).empty();
    std::printf("hangs: %u forced, hang timeout %.2f s, %s\n", n, timeout_s,
                real ? "real: PrefaultVsDelete_Anon on a kernel with a known prefault livelock"
                     : "injected: a child thread blocked in read() marked in KVM_PRE_FAULT_MEMORY "
                       "(this kernel has no known prefault livelock)");
    SupervisorOptions opt;
    opt.hang_timeout = std::chrono::milliseconds(int64_t(timeout_s * 1000));
    RaceConfig cfg;
    cfg.iterations = 1'000'000;  // until it hangs
    std::vector<double> detect, verdict;
    unsigned other = 0;
    for (unsigned i = 0; i < n; ++i) {
        cfg.seed = i + 1;
        SupervisedRun r = real ? supervise([&](ProgressBoard& b) { run_scenario(s, cfg, b); }, opt)
                               : supervise(stuck_child, opt);
        if (r.verdict != Verdict::Hang) {
            ++other;
            continue;
        }
        detect.push_back(r.hang_detect_latency_s);
        verdict.push_back(r.hang_verdict_latency_s);
    }
    auto show = [&](const char* what, std::vector<double> v) {
        if (v.empty()) return;
        std::sort(v.begin(), v.end());
        std::printf("%-28s min %.3f  median %.3f  p90 %.3f  max %.3f s\n", what, v.front(),
                    v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 9 / 10)], v.back());
    };
    show("last progress -> HANG", detect);
    show("last progress -> verdict", verdict);
    const double bound = timeout_s + 0.5;
    const bool ok = other == 0 && !verdict.empty() &&
                    *std::max_element(verdict.begin(), verdict.end()) <= bound;
    std::printf("%zu HANGs, %u other verdicts; every verdict within timeout + 0.5 s = %.2f s: %s\n",
                verdict.size(), other, bound, ok ? "yes" : "no");
    std::printf("%d passed, %d failed, 0 skipped\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}

void usage(std::FILE* f) {
    std::fprintf(f,
                 "usage: kvmrace-bench [ITERATIONS]      bare loop vs engine, non-concurrent "
                 "re-create (needs KVM_PRE_FAULT_MEMORY)\n"
                 "       kvmrace-bench --race [ITERATIONS]  concurrent delete/re-create race: "
                 "bare threads vs engine, rates and hit rates\n"
                 "                                          (prefault where available, else "
                 "KVM_RUN)\n"
                 "         [--jitter-us N]                   the engine with blind jitter "
                 "(A/B)\n"
                 "       kvmrace-bench --hangs N [TIMEOUT_S]  N forced HANGs: detection latency "
                 "distribution\n"
                 "       kvmrace-bench --help\n");
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t iterations = 0;
    bool race = false;
    unsigned hangs = 0;
    double hang_timeout = 2.0;
    unsigned jitter_us = 0;  // the engine's --jitter-us (0: its default, aimed or none)
    std::vector<std::string_view> numbers;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a == "--json" && i + 1 < argc) {  // vm-run's flags: no record, nothing to force here
            ++i;
            continue;
        }
        if (a == "--race") {
            race = true;
        } else if (a == "--hangs" && i + 1 < argc) {
            hangs = unsigned(std::strtoul(argv[++i], nullptr, 10));
            if (hangs == 0) {
                usage(stderr);
                return 2;
            }
        } else if (a == "--jitter-us" && i + 1 < argc) {
            jitter_us = unsigned(std::strtoul(argv[++i], nullptr, 10));
        } else if (!a.starts_with("--")) {
            numbers.push_back(a);
        }
    }
    if (hangs) {
        if (!numbers.empty()) hang_timeout = std::strtod(numbers[0].data(), nullptr);
        if (hang_timeout <= 0) {
            usage(stderr);
            return 2;
        }
        return hangs_mode(hangs, hang_timeout);
    }
    if (!numbers.empty()) {
        iterations = std::strtoull(numbers[0].data(), nullptr, 10);
        if (iterations == 0) {
            usage(stderr);
            return 2;
        }
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    int cap = ioctl(kvm, KVM_CHECK_EXTENSION, uapi::kCapPreFaultMemory);
    close(kvm);
    if (race)
        return race_mode(iterations ? iterations : (cap > 0 ? 200 : 1000), cap > 0, jitter_us);
    if (!iterations) iterations = 2000;
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
