// Races on confidential VMs, in the supervised child like every scenario:
//  - CocoPrefault: KVM_PRE_FAULT_MEMORY on a launched SEV/SEV-ES/SNP VM or finalized TD vs
//    delete/move of a second memslot, checked call by call by the prefault contract checker;
//    BeforeLaunchFinish: prefault is EOPNOTSUPP on SNP/TDX until LAUNCH_FINISH/FINALIZE_VM
//    (`pre_fault_allowed`), allowed on SEV from the start, and maps the range afterwards.
//  - Populate: KVM_SEV_SNP_LAUNCH_UPDATE / KVM_TDX_INIT_MEM_REGION vs delete + re-create of the
//    slot or PUNCH_HOLE of the range, checked by the populate contract; after each iteration the
//    rest of the range must populate with nothing in flight; at the end LAUNCH_FINISH /
//    FINALIZE_VM must succeed (TDX refuses to finalize with pages left half-populated) and the
//    measured payload must still run and report what it read.
//  - UnalignedSource: populate from a source that is not page-aligned (seed 004).
#include "race/coco_race.h"

#include <barrier>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "guest/coco_payloads.h"
#include "kernel/behaviour_changes.h"
#include "kernel/version.h"
#include "kvm/capability.h"
#include "kvm/coco_caps.h"
#include "kvm/kvm_error.h"
#include "kvm/memslot.h"
#include "kvm/sev_device.h"
#include "kvm/sev_vm.h"
#include "kvm/system.h"
#include "kvm/tdx_vm.h"
#include "kvm/vcpu.h"
#include "race/populate_contract.h"
#include "race/prefault_contract.h"
#include "race/schedule.h"

namespace kvmrace {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRaceSlot = 1;
constexpr uint64_t kRaceGpa = 1ull << 30;  // private on TDX: far below the shared bit
constexpr uint64_t kRaceBytes = 2ull << 20;
constexpr uint64_t kPopulateBytes = 16 * kPage;

CocoKind kind_of(uapi::VmType t) {
    switch (t) {
        case uapi::VmType::Sev: return CocoKind::Sev;
        case uapi::VmType::SevEs: return CocoKind::SevEs;
        case uapi::VmType::Snp: return CocoKind::Snp;
        default: return CocoKind::Tdx;
    }
}

// A confidential VM with the report payload populated and a race slot, stopped before
// LAUNCH_FINISH / FINALIZE_VM until finish().
class CocoRaceVm {
public:
    CocoRaceVm(const System& sys, CocoKind k, uint64_t seed)
        : k_(k), sink_(sys, coco_vm_type(k)), image_(coco_launch_image(k, seed)) {
        if (k == CocoKind::Tdx) {
            tdx_.emplace(sink_);
            launch_tdx(sink_, *tdx_, image_, LaunchStop::BeforeFinish);
        } else {
            dev_.emplace();
            sev_.emplace(sink_, dev_->fd());
            rec_ = launch_sev_family(sink_, *sev_, coco_vm_type(k), image_,
                                     k == CocoKind::Sev ? 0 : 1, LaunchStop::BeforeFinish);
        }
        sink_.add_memory(kRaceSlot, kRaceGpa, kRaceBytes, private_memory());
    }

    bool private_memory() const { return k_ == CocoKind::Snp || k_ == CocoKind::Tdx; }
    Vcpu& vcpu() { return sink_.vcpu(0); }
    Memslot& race_slot() { return sink_.slot(kRaceSlot); }

    void finish() {
        if (tdx_)
            tdx_->finalize_vm();
        else
            finish_sev_family(*sev_, coco_vm_type(k_), rec_);
    }

    // The measured payload still runs and reads its data page.
    void check_guest_report() {
        const uint64_t got = wait_for_coco_report(vcpu());
        const uint64_t want = coco_expected_report(k_, image_);
        if (got != want)
            throw std::runtime_error(
                fmt::format("{} guest reported {:#x} after the race, expected {:#x}", coco_name(k_),
                            got, want));
    }

    // One populate call of [gpa, gpa + bytes) from `src`.
    PopulateCall populate(uint64_t gpa, uint64_t src, uint64_t bytes) {
        PopulateCall c{gpa, src, bytes, gpa, src, bytes, {}, 0};
        if (tdx_) {
            uapi::TdxInitMemRegion r{src, gpa, bytes / kPage};
            TdxResult res = tdx_->try_init_mem_region(0, r, false);
            c = {gpa, src, bytes, r.gpa, r.source_addr, r.nr_pages * kPage, res.err, 0};
        } else {
            uapi::SnpLaunchUpdate u{};
            u.gfn_start = gpa / kPage;
            u.uaddr = src;
            u.len = bytes;
            u.type = uapi::kSnpPageTypeNormal;
            SevResult res = sev_->try_snp_launch_update(u);
            c = {gpa, src, bytes, u.gfn_start * kPage, u.uaddr, u.len, res.err, res.fw_error};
        }
        return c;
    }

    void reset_range(uint64_t offset, uint64_t bytes) {
        Errno e = race_slot().guest_memfd()->try_punch_hole(offset, bytes);
        if (!e.ok()) throw KvmError("fallocate(PUNCH_HOLE|KEEP_SIZE)", e.value, "populate reset");
    }

private:
    CocoKind k_;
    KvmCocoSink sink_;
    LaunchImage image_;
    std::optional<SevDevice> dev_;
    std::optional<SevCommands> sev_;
    std::optional<TdxCommands> tdx_;
    SevLaunchRecord rec_;
};

class CocoRace {
public:
    CocoRace(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board)
        : s_(s),
          cfg_(cfg),
          board_(board),
          sys_(cfg.device),
          vm_(sys_, kind_of(s.vm_type), cfg.seed) {}

    void run() {
        if (s_.mutation == Mutation::BeforeLaunchFinish) return before_finish();
        if (s_.mutation == Mutation::UnalignedSource) return unaligned_source();
        if (s_.actor == Actor::Populate) {
            race([&](unsigned slot, uint64_t it) { populate_actor(slot, it); });
            vm_.finish();
        } else {
            vm_.finish();
            if (s_.mutation == Mutation::MoveAway) probe_move();
            if (!skip_.empty()) return board_.finish(ChildVerdict::Skip, skip_);
            race([&](unsigned slot, uint64_t it) { prefault_actor(slot, it); });
            check_eagain_seen();
        }
        if (!violation_.empty()) throw std::runtime_error(violation_);
        vm_.check_guest_report();
    }

private:
    bool stop() const { return stop_.load(); }
    void violate(std::string what) {
        std::lock_guard lock(mu_);
        if (violation_.empty()) violation_ = std::move(what);
        stop_ = true;
    }

    // guest_memfd slots cannot be moved on some kernels (EINVAL): that is a SKIP, not a FAIL.
    void probe_move() {
        Errno e = vm_.race_slot().try_move(kRaceGpa + (1ull << 30));
        if (e == EINVAL) {
            skip_ = fmt::format("moving a {} memslot: KVM_SET_USER_MEMORY_REGION2 EINVAL on {}",
                                vm_.private_memory() ? "guest_memfd" : "confidential VM's",
                                KernelVersion::running().str());
            return;
        }
        if (!e.ok()) throw KvmError("KVM_SET_USER_MEMORY_REGION2", e.value, "probe move");
        vm_.race_slot().move(kRaceGpa);
    }

    template <typename Body>
    void race(Body actor) {
        std::barrier sync(2);
        std::thread mut([&] {
            unsigned slot = board_.join("mutator");
            if (cfg_.pin) pin_to_cpu(1);
            Schedule sched(cfg_.seed, 1000);
            for (uint64_t it = 0; it < cfg_.iterations; ++it) {
                sync.arrive_and_wait();
                if (!stop()) {
                    sched.jitter(cfg_.jitter_us);
                    try {
                        mutate(slot);
                    } catch (const std::exception& e) {
                        violate(e.what());
                    }
                }
                sync.arrive_and_wait();
            }
        });
        unsigned slot = board_.join(s_.actor == Actor::Populate ? "populate0" : "prefault0");
        if (cfg_.pin) pin_to_cpu(0);
        Schedule sched(cfg_.seed, 0);
        for (uint64_t it = 0; it < cfg_.iterations; ++it) {
            sync.arrive_and_wait();
            if (!stop()) {
                sched.jitter(cfg_.jitter_us);
                actor(slot, it);
            }
            sync.arrive_and_wait();
            if (!stop()) {
                try {
                    settle(slot, it);
                } catch (const std::exception& e) {
                    violate(e.what());
                }
            }
            board_.count(Counter::Iterations);
        }
        mut.join();
        if (stopped_by_signal_) throw std::runtime_error("interrupted by the supervisor");
    }

    void mutate(unsigned slot) {
        Memslot& m = vm_.race_slot();
        InCall in(board_, slot,
                  s_.mutation == Mutation::PunchHole ? Call::Fallocate : Call::SetMemoryRegion);
        switch (s_.mutation) {
            case Mutation::Delete:
                absences_.start();
                invalidations_.start();
                m.remove();
                invalidations_.finish();
                m.add();
                absences_.finish();
                break;
            case Mutation::MoveAway:
                absences_.start();
                invalidations_.start();
                m.move(kRaceGpa + (1ull << 30));
                m.move(kRaceGpa);
                invalidations_.finish();
                absences_.finish();
                break;
            case Mutation::PunchHole:
                punches_.start();
                vm_.reset_range(0, kPopulateBytes);
                punches_.finish();
                break;
            default: throw std::logic_error("mutation not raced on confidential VMs");
        }
        board_.count(Counter::Mutations);
    }

    // --- populate -------------------------------------------------------------------------

    void populate_actor(unsigned slot, uint64_t it) {
        PopulateWindow w{};
        PopulateCall c = populate_once(slot, kRaceGpa, src_.address(), kPopulateBytes, &w);
        if (std::string bad = check_populate_call(kind(), c, w); !bad.empty())
            return violate(fmt::format("{} [{} iteration {}]", bad, s_.name, it));
        left_ = {c.gpa_after, c.src_after, c.bytes_after};
    }

    PopulateCall populate_once(unsigned slot, uint64_t gpa, uint64_t src, uint64_t bytes,
                               PopulateWindow* w) {
        WindowProbe changes(absences_), punches(punches_);
        PopulateCall c;
        {
            InCall in(board_, slot, Call::Other);
            c = vm_.populate(gpa, src, bytes);
        }
        *w = PopulateWindow{changes.overlapped(), punches.overlapped(),
                            board_.thread(slot).signalled.load() != 0};
        // A signalled populate fails as EINTR on TDX but as EIO on SNP (snp_launch_update() maps
        // every populate failure to EIO): either way it was stopped, not broken.
        if (w->signalled && !c.err.ok()) {
            stopped_by_signal_ = true;
            stop_ = true;
        }
        return c;
    }

    PopulateKind kind() const {
        return s_.vm_type == uapi::VmType::Tdx ? PopulateKind::Tdx : PopulateKind::Snp;
    }

    // With nothing in flight: the rest of the populate completes (the slot was never left
    // half-populated), then the range is punched so the next iteration starts from scratch.
    // Prefault: the whole range maps.
    void settle(unsigned slot, uint64_t it) {
        if (s_.actor == Actor::Populate) {
            while (left_.bytes > 0 && !stop()) {
                PopulateWindow w{};
                PopulateCall c = populate_once(slot, left_.gpa, left_.src, left_.bytes, &w);
                if (std::string bad = check_populate_call(kind(), c, w); !bad.empty())
                    return violate(
                        fmt::format("after the race: {} [{} iteration {}]", bad, s_.name, it));
                left_ = {c.gpa_after, c.src_after, c.bytes_after};
            }
            vm_.reset_range(0, kPopulateBytes);
            return;
        }
        prefault(slot, kRaceGpa, kRaceBytes, it);
    }

    // --- prefault -------------------------------------------------------------------------

    void prefault_actor(unsigned slot, uint64_t it) { prefault(slot, kRaceGpa, kRaceBytes, it); }

    void prefault(unsigned slot, uint64_t gpa, uint64_t size, uint64_t it) {
        while (size > 0 && !stop()) {
            WindowProbe inv(invalidations_), abs(absences_);
            PrefaultResult r;
            {
                InCall in(board_, slot, Call::PreFault);
                r = vm_.vcpu().pre_fault(gpa, size);
            }
            CallWindow w{inv.overlapped(), abs.overlapped(),
                         board_.thread(slot).signalled.load() != 0, vm_.private_memory()};
            board_.count(Counter::PrefaultCalls);
            board_.count(prefault_outcome(r));
            if (std::string bad = check_prefault_call(r, w); !bad.empty())
                return violate(fmt::format("{} [{} iteration {}]", bad, s_.name, it));
            if (r.ret < 0 && r.err == EINTR) {
                stopped_by_signal_ = true;
                stop_ = true;
                return;
            }
            gpa = r.gpa_after;
            size = r.size_after;
        }
    }

    void check_eagain_seen() {
        const std::string why =
            eagain_never_seen(board_.counter(Counter::PrefaultEagain),
                              board_.counter(Counter::Iterations), KernelVersion::running());
        if (!why.empty()) throw std::runtime_error(why);
    }

    // --- no concurrency --------------------------------------------------------------------

    void before_finish() {
        unsigned slot = board_.join("prefault0");
        PrefaultResult r;
        {
            InCall in(board_, slot, Call::PreFault);
            r = vm_.vcpu().pre_fault(kRaceGpa, kRaceBytes);
        }
        // SEV and SEV-ES have no private memory: pre_fault_allowed from creation.
        const bool refused = vm_.private_memory();
        if (refused && !(r.ret < 0 && r.err == EOPNOTSUPP && r.size_after == kRaceBytes))
            throw std::runtime_error(fmt::format(
                "KVM_PRE_FAULT_MEMORY before {} returned {} ({}), size {:#x}->{:#x}: expected "
                "EOPNOTSUPP and nothing mapped",
                s_.vm_type == uapi::VmType::Tdx ? "KVM_TDX_FINALIZE_VM"
                                                : "KVM_SEV_SNP_LAUNCH_FINISH",
                r.ret, r.err.describe(), r.size_before, r.size_after));
        if (!refused && r.ret < 0)
            throw std::runtime_error(fmt::format(
                "KVM_PRE_FAULT_MEMORY on a SEV VM before LAUNCH_FINISH: {} (allowed from "
                "creation)",
                r.err.describe()));
        vm_.finish();
        prefault(slot, kRaceGpa, kRaceBytes, 0);  // now it must map everything
        if (!violation_.empty()) throw std::runtime_error(violation_);
        board_.count(Counter::Iterations);
        vm_.check_guest_report();
    }

    void unaligned_source() {
        unsigned slot = board_.join("populate0");
        PopulateWindow w{};
        PopulateCall c = populate_once(slot, kRaceGpa, src_.address() + 8, kPage, &w);
        Presence rework =
            s_.vm_type == uapi::VmType::Tdx
                ? Presence::Yes  // TDX has always checked the source
                : kernel_has("gmem-populate-aligned-source", KernelVersion::running());
        const bool einval = c.err == EINVAL && c.bytes_after == c.bytes_before;
        const bool accepted = c.err.ok() && c.bytes_after == 0;
        if (rework == Presence::Yes && !einval)
            throw std::runtime_error("unaligned populate source not refused with EINVAL: " +
                                     check_or_describe(c));
        if (rework == Presence::No && !accepted)
            throw std::runtime_error(
                "unaligned populate source failed on a kernel without the "
                "rework: " +
                check_or_describe(c));
        if (rework == Presence::Unknown && !einval && !accepted)
            throw std::runtime_error(
                "unaligned populate source: neither EINVAL (rework) nor "
                "success (before it): " +
                check_or_describe(c));
        if (accepted) vm_.reset_range(0, kPage);
        board_.count(Counter::Iterations);
        vm_.finish();
        vm_.check_guest_report();
    }

    std::string check_or_describe(const PopulateCall& c) {
        std::string s = check_populate_call(kind(), c, PopulateWindow{true, true, false});
        return s.empty() ? fmt::format("{} -> {}", c.bytes_before, c.err.describe()) : s;
    }

    struct Left {
        uint64_t gpa, src, bytes;
    };

    const Scenario& s_;
    const RaceConfig& cfg_;
    ProgressBoard& board_;
    System sys_;
    CocoRaceVm vm_;
    // The populate source: page-aligned, whole pages (seed 004 requires it), plus one spare page
    // for the unaligned case.
    Mapping src_ = Mapping::anonymous(kPopulateBytes + kPage);
    Left left_{};
    OperationClock invalidations_, absences_, punches_;
    std::atomic<bool> stop_{false}, stopped_by_signal_{false};
    std::mutex mu_;
    std::string violation_, skip_;
};

}  // namespace

bool is_coco_scenario(const Scenario& s) {
    return s.actor == Actor::Populate || s.actor == Actor::CocoPrefault;
}

std::string coco_scenario_skip_reason(const Scenario& s, const System& sys) {
    if (std::string why = coco_missing(kind_of(s.vm_type), probe_coco_host(sys)); !why.empty())
        return why;
    if (s.actor == Actor::CocoPrefault) {
        int cap = sys.check_extension(uapi::kCapPreFaultMemory);
        if (cap == 0) return capability_reason(uapi::kCapPreFaultMemory, cap);
    }
    return "";
}

void run_coco_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board) {
    System sys(cfg.device);
    if (std::string why = coco_scenario_skip_reason(s, sys); !why.empty())
        return board.finish(ChildVerdict::Skip, why);
    CocoRace(s, cfg, board).run();
}

}  // namespace kvmrace
