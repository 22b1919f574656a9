#include "race/errata_probe.h"

#include <sys/eventfd.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "kvm/capability.h"
#include "kvm/kvm_error.h"
#include "kvm/memslot.h"
#include "kvm/system.h"
#include "kvm/vcpu.h"
#include "kvm/vm.h"
#include "watchdog/supervisor.h"

namespace kvmrace {

namespace {

constexpr uint64_t kGpa1 = 1ull << 30;
constexpr uint64_t kSlotBytes = 2ull << 20;  // one THP: a whole-slot prefault is one fault
constexpr uint64_t kGpa2 = kGpa1 + kSlotBytes;
constexpr uint64_t kPage = 4096;

// A probe body ends its board with Pass and "<outcome>: <evidence>"; a livelock is the
// supervisor's HANG. Tries and hits ride on the Mutations and Hits counters.
void finish(ProgressBoard& b, ProbeOutcome o, const std::string& evidence) {
    b.finish(ChildVerdict::Pass, fmt::format("{}: {}", probe_outcome_name(o), evidence));
}

bool prefault_skip(const System& sys, ProgressBoard& b) {
    const int cap = sys.check_extension(uapi::kCapPreFaultMemory);
    if (cap > 0) return false;
    finish(b, ProbeOutcome::Unknown, capability_reason(uapi::kCapPreFaultMemory, cap));
    return true;
}

// KVM_PRE_FAULT_MEMORY over all of [gpa, gpa + size) on its own thread, over and over, until
// told to stop or freed by the supervisor's signal. EAGAIN (slot in flux) retries the rest;
// ENOENT (no slot) skips a page, as a VMM would.
class PrefaultLoop {
public:
    PrefaultLoop(Vcpu& vcpu, ProgressBoard& b, uint64_t gpa, uint64_t size)
        : vcpu_(vcpu), b_(b), gpa_(gpa), size_(size), thread_([this] { loop(); }) {
        while (!joined_.load()) std::this_thread::yield();  // the board slot is known
    }
    ~PrefaultLoop() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    // A call of this loop overlapped [t0, t1] iff one had started by t1 that had not finished
    // by t0: take finished() before a change and started() after it.
    uint64_t finished() const { return b_.thread(slot_).finished.load(); }
    uint64_t started() const { return b_.thread(slot_).started.load(); }
    // The loop's own failure (an errno outside the set): failed() while it runs, error() once
    // stopped (the string is the loop thread's until then).
    bool failed() const { return failed_.load(); }
    const std::string& error() const { return error_; }

private:
    void loop() {
        slot_ = b_.join("prefault");
        joined_ = true;
        while (!stop_) {
            uint64_t gpa = gpa_, size = size_;
            while (size && !stop_) {
                b_.set_call_args(slot_, gpa, size);
                PrefaultResult r;
                {
                    InCall in(b_, slot_, Call::PreFault);
                    r = vcpu_.pre_fault(gpa, size);
                }
                b_.count(Counter::PrefaultCalls);
                gpa = r.gpa_after, size = r.size_after;
                if (r.ret >= 0) continue;
                if (r.err == EAGAIN) {
                    b_.count(Counter::PrefaultEagain);
                } else if (r.err == ENOENT) {
                    b_.count(Counter::PrefaultEnoent);
                    gpa += kPage, size -= kPage;
                } else if (r.err == EINTR && b_.thread(slot_).signalled.load()) {
                    return;  // freed by the supervisor: the HANG is its verdict
                } else if (r.err != EINTR) {
                    error_ = "KVM_PRE_FAULT_MEMORY: " + r.err.describe();
                    failed_ = true;
                    return;
                }
            }
        }
    }

    Vcpu& vcpu_;
    ProgressBoard& b_;
    const uint64_t gpa_, size_;
    std::atomic<bool> stop_{false}, joined_{false}, failed_{false};
    unsigned slot_ = 0;
    std::string error_;
    std::thread thread_;
};

// One memslot update marked on the board (a HANG report shows the mutator inside it).
void update(ProgressBoard& b, unsigned slot, Memslot& m, bool add) {
    InCall in(b, slot, Call::SetMemoryRegion);
    add ? m.add() : m.remove();
}

// Deletes and re-creates `m` while `loop` prefaults, until the budget is spent or `done()`:
// each update counts in Mutations, and in Hits when a prefault call overlapped the delete (where
// the zap is). The loop's own failure is rethrown once it stopped.
template <class Done>
void recreate_under_prefault(const ProbeSettings& cfg, ProgressBoard& b, Memslot& m,
                             PrefaultLoop& loop, Done done) {
    const unsigned me = b.join("mutator");
    const uint64_t deadline = monotonic_ns() + uint64_t(cfg.budget.count()) * 1'000'000;
    while (monotonic_ns() < deadline && !done() && !loop.failed()) {
        const uint64_t before = loop.finished();
        update(b, me, m, false);
        const bool hit = loop.started() > before;
        update(b, me, m, true);
        b.count(Counter::Mutations);
        if (hit) b.count(Counter::Hits);
    }
    loop.stop();
    if (loop.failed()) throw std::runtime_error(loop.error());
}

// prefault-eagain, isolated from the zap-all errata: a VM whose memslot updates zap only the
// slot (SLOT_ZAP_ALL disabled, else a SW_PROTECTED VM). Prefault slot 1 while slot 1 is deleted
// and re-created. Has the bug: the prefault retries the INVALID slot forever. Fixed: EAGAIN.
void probe_eagain(const ProbeSettings& cfg, ProgressBoard& b) {
    System sys(cfg.device);
    if (prefault_skip(sys, b)) return;
    const int quirks = sys.check_extension(uapi::kCapDisableQuirks2);
    const bool quirk_off = quirks > 0 && (uint64_t(quirks) & uapi::kQuirkSlotZapAll);
    const bool sw_protected = sys.vm_types() & (1ul << int(uapi::VmType::SwProtected));
    if (!quirk_off && !sw_protected)
        return finish(b, ProbeOutcome::Unknown,
                      "no VM whose memslot updates spare the other roots (cap 213 without "
                      "SLOT_ZAP_ALL, VM type 1 unavailable): the zap-all errata would confound "
                      "the probe");
    Vm vm = sys.create_vm(quirk_off ? uapi::VmType::Default : uapi::VmType::SwProtected);
    if (quirk_off) vm.enable_cap(uapi::kCapDisableQuirks2, uapi::kQuirkSlotZapAll);
    Vcpu vcpu = vm.create_vcpu(0);
    Memslot slot(vm, {1, kGpa1, kSlotBytes, 0, Backing::Thp});
    b.add_slot(1, kGpa1, kSlotBytes, true);
    PrefaultLoop loop(vcpu, b, kGpa1, kSlotBytes);
    recreate_under_prefault(cfg, b, slot, loop,
                            [&] { return b.counter(Counter::PrefaultEagain) > 0; });
    const std::string vm_text =
        quirk_off ? "default VM, SLOT_ZAP_ALL off" : "SW_PROTECTED VM (zaps only the slot)";
    const uint64_t eagain = b.counter(Counter::PrefaultEagain);
    if (eagain > 0)
        return finish(b, ProbeOutcome::Fixed,
                      fmt::format("EAGAIN from a prefault of a slot being deleted ({})", vm_text));
    finish(b, ProbeOutcome::Unknown,
           fmt::format("no EAGAIN and no livelock in {} deletes, {} with a prefault in flight ({})",
                       b.counter(Counter::Mutations), b.counter(Counter::Hits), vm_text));
}

// prefault-obsolete-roots: no concurrency. Prefault, delete + re-create the slot on a default VM
// (the delete zaps all roots), prefault again. Has the bug: the second prefault keeps the
// obsolete root and retries forever. Fixed: it completes.
void probe_obsolete_roots(const ProbeSettings& cfg, ProgressBoard& b) {
    System sys(cfg.device);
    if (prefault_skip(sys, b)) return;
    Vm vm = sys.create_vm();
    Vcpu vcpu = vm.create_vcpu(0);
    Memslot slot(vm, {1, kGpa1, kSlotBytes, 0, Backing::Thp});
    b.add_slot(1, kGpa1, kSlotBytes, true);
    const unsigned me = b.join("prefault");
    constexpr unsigned kTries = 3;
    for (unsigned i = 0; i < kTries; ++i) {
        for (int pass = 0; pass < 2; ++pass) {
            b.set_call_args(me, kGpa1, kSlotBytes);
            PrefaultResult r;
            {
                InCall in(b, me, Call::PreFault);
                r = vcpu.pre_fault(kGpa1, kSlotBytes);
            }
            if (r.err == EINTR && b.thread(me).signalled.load()) return;  // the HANG decides
            if (r.ret < 0 || r.size_after)
                return finish(b, ProbeOutcome::Unknown,
                              fmt::format("prefault {} of 3 did not complete: {}", i + 1,
                                          r.ret < 0 ? r.err.describe() : "size left"));
            if (pass == 0) {
                update(b, me, slot, false);
                update(b, me, slot, true);
            }
        }
        b.count(Counter::Mutations);
        b.count(Counter::Hits);
    }
    finish(b, ProbeOutcome::Fixed,
           fmt::format("a prefault after delete + re-create on a default VM completed {} of {} "
                       "times",
                       kTries, kTries));
}

// prefault-stale-root: a default VM (SLOT_ZAP_ALL on: a memslot update zaps all roots). Prefault
// slot 1 while slot 2 is deleted and re-created: the prefault never meets the INVALID slot.
// Has the bug: a prefault that loaded its root before the zap retries forever. Fixed: enough
// updates with a prefault in flight and no call stuck.
void probe_stale_root(const ProbeSettings& cfg, ProgressBoard& b) {
    System sys(cfg.device);
    if (prefault_skip(sys, b)) return;
    Vm vm = sys.create_vm();
    Vcpu vcpu = vm.create_vcpu(0);
    Memslot one(vm, {1, kGpa1, kSlotBytes, 0, Backing::Thp});
    Memslot two(vm, {2, kGpa2, kSlotBytes, 0, Backing::Thp});
    b.add_slot(1, kGpa1, kSlotBytes, false);
    b.add_slot(2, kGpa2, kSlotBytes, true);
    PrefaultLoop loop(vcpu, b, kGpa1, kSlotBytes);
    recreate_under_prefault(cfg, b, two, loop,
                            [&] { return b.counter(Counter::Hits) >= kStaleRootHitsForFixed; });
    const uint64_t hits = b.counter(Counter::Hits);
    if (hits >= kStaleRootHitsForFixed)
        return finish(
            b, ProbeOutcome::Fixed,
            fmt::format("{} deletes of another slot overlapped a prefault, none stuck", hits));
    finish(b, ProbeOutcome::Unknown,
           fmt::format("only {} of {} deletes overlapped a prefault (need {})", hits,
                       b.counter(Counter::Mutations), kStaleRootHitsForFixed));
}

// irqfd-unique: bind one eventfd to irqfds in two VMs. Fixed: the second is EBUSY. (Within one
// VM a second GSI was EBUSY long before the fix: that tells nothing.)
void probe_irqfd_unique(const ProbeSettings& cfg, ProgressBoard& b) {
    System sys(cfg.device);
    const int cap = sys.check_extension(KVM_CAP_IRQFD);
    if (cap <= 0) return finish(b, ProbeOutcome::Unknown, capability_reason(KVM_CAP_IRQFD, cap));
    Vm first = sys.create_vm();
    first.create_irqchip();
    Vm second = sys.create_vm();
    second.create_irqchip();
    UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
    if (!efd.valid()) throw KvmError("eventfd", errno, "irqfd probe");
    kvm_irqfd a{};
    a.fd = static_cast<uint32_t>(efd.get());
    a.gsi = 5;
    if (Errno e = first.try_irqfd(a); !e.ok())
        return finish(b, ProbeOutcome::Unknown, "KVM_IRQFD on the first VM: " + e.describe());
    const Errno again = second.try_irqfd(a);
    b.count(Counter::Mutations);
    b.count(Counter::Hits);
    if (again == EBUSY)
        return finish(b, ProbeOutcome::Fixed,
                      "an irqfd of an eventfd bound in another VM is EBUSY");
    if (again.ok())
        return finish(b, ProbeOutcome::HasBug,
                      "an irqfd of an eventfd bound in another VM succeeded instead of EBUSY");
    finish(b, ProbeOutcome::Unknown,
           "an irqfd of an eventfd bound in another VM: " + again.describe());
}

struct Probe {
    std::string_view id;
    bool prefault;  // in ProbeScope::prefault, else ::irqfd
    void (*body)(const ProbeSettings&, ProgressBoard&);
};

// Order matters: obsolete roots before the stale root, whose probe it confounds.
constexpr Probe kProbes[] = {
    {"prefault-eagain", true, probe_eagain},
    {"prefault-obsolete-roots", true, probe_obsolete_roots},
    {"prefault-stale-root", true, probe_stale_root},
    {"irqfd-unique", false, probe_irqfd_unique},
};

}  // namespace

ProbeResult judge_probe(const SupervisedRun& r) {
    ProbeResult p;
    p.seconds = r.duration_s;
    auto counter = [&](const char* name) {
        auto it = r.counters.find(name);
        return it == r.counters.end() ? 0u : static_cast<unsigned>(it->second);
    };
    p.tries = counter("mutations");
    p.hits = counter("hits");
    switch (r.verdict) {
        case Verdict::Hang: {
            p.outcome = ProbeOutcome::HasBug;
            std::string who;
            for (const ThreadEvidence& t : r.evidence)
                if (t.role == "prefault" || t.role == "mutator")
                    who += fmt::format("{}{} {} in {}", who.empty() ? "" : ", ", t.role, t.state,
                                       t.stack.empty() ? t.wchan : t.stack.front());
            p.evidence =
                fmt::format("livelock: {} for {:.2f} s{}; {}", r.hang_kind, r.hang_detect_s,
                            who.empty() ? "" : " (" + who + ")", r.recovery);
            break;
        }
        case Verdict::Pass: {
            const std::string& m = r.message;
            for (ProbeOutcome o :
                 {ProbeOutcome::HasBug, ProbeOutcome::Fixed, ProbeOutcome::Unknown}) {
                const std::string prefix = fmt::format("{}: ", probe_outcome_name(o));
                if (m.rfind(prefix, 0) == 0) {
                    p.outcome = o;
                    p.evidence = m.substr(prefix.size());
                    return p;
                }
            }
            p.outcome = ProbeOutcome::Unknown;
            p.evidence = "probe said: " + m;
            break;
        }
        case Verdict::Fail:
        case Verdict::Skip:
            p.outcome = ProbeOutcome::Unknown;
            p.evidence = fmt::format("probe {}: {}", verdict_name(r.verdict), r.message);
            break;
    }
    return p;
}

ProbeRun run_errata_probes(const ProbeScope& scope, const ProbeSettings& settings) {
    ProbeRun run;
    for (const Probe& probe : kProbes) {
        if (probe.prefault ? !scope.prefault : !scope.irqfd) continue;
        const std::string id(probe.id);
        if (id == "prefault-stale-root") {
            auto it = run.results.find("prefault-obsolete-roots");
            if (it != run.results.end() && it->second.outcome == ProbeOutcome::HasBug) {
                run.results[id] = {ProbeOutcome::Unknown, 0, 0, 0,
                                   "not run: with prefault-obsolete-roots every prefault after "
                                   "a zap livelocks, so it cannot tell this bug apart"};
                continue;
            }
        }
        SupervisorOptions opt;
        opt.hang_timeout = settings.hang_timeout;
        opt.splats_fail = false;  // a splat is evidence for the run's tests, not a probe verdict
        SupervisedRun r = supervise([&](ProgressBoard& b) { probe.body(settings, b); }, opt);
        run.results[id] = judge_probe(r);
        if (r.verdict == Verdict::Hang && (!r.recovered || r.unkillable)) {
            run.wedged = fmt::format(
                "the {} probe's livelock was not freed by a signal within {:.1f} s ({}): this "
                "kernel is wedged, no test runs on it; reboot it",
                id, double(settings.hang_timeout.count()) / 1000, r.recovery);
            break;
        }
    }
    return run;
}

}  // namespace kvmrace
