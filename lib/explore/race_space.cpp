#include "explore/race_space.h"

#include <algorithm>
#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "kvm/capability.h"

namespace kvmrace {

namespace {

using enum Mutation;
using enum RaceBacking;

struct Named {
    std::string_view name;
    int value;
};

constexpr Named kActors[] = {
    {"prefault", int(Actor::Prefault)}, {"run", int(Actor::Run)}, {"irq", int(Actor::Irq)}};
// DeleteSecond is not a value of its own: it is delete with layout=two.
constexpr Named kMutations[] = {
    {"delete", int(Delete)},
    {"move-away", int(MoveAway)},
    {"move-covering", int(MoveCovering)},
    {"dirty-log-toggle", int(DirtyLogToggle)},
    {"punch-hole", int(PunchHole)},
    {"recreate", int(Recreate)},
    {"madvise", int(Madvise)},
    {"remap", int(Remap)},
    {"mprotect", int(Mprotect)},
    {"dirty-log-get", int(DirtyLogGet)},
    {"attr-toggle", int(AttrToggle)},
    {"dirty-log-clear", int(DirtyLogClear)},
    {"irqfd-deassign", int(IrqfdDeassign)},
    {"eventfd-close", int(EventfdClose)},
};
constexpr Named kBackings[] = {{"anon", int(Anonymous)},
                               {"thp", int(Thp)},
                               {"gmem-shared", int(GuestMemfdShared)},
                               {"gmem-private", int(GuestMemfdPrivate)},
                               {"memfd-shared", int(MemfdShared)}};
constexpr Named kVms[] = {{"default", int(uapi::VmType::Default)},
                          {"sw-protected", int(uapi::VmType::SwProtected)}};

template <size_t N>
std::string_view name_of(const Named (&table)[N], int v) {
    for (const Named& n : table)
        if (n.value == v) return n.name;
    return "?";
}

template <size_t N>
std::vector<std::string_view> names(const Named (&table)[N]) {
    std::vector<std::string_view> out;
    for (const Named& n : table) out.push_back(n.name);
    return out;
}

const std::vector<Axis>& axes() {
    static const std::vector<Axis> kAxes{
        {"actor", names(kActors)},           {"mutation", names(kMutations)},
        {"backing", names(kBackings)},       {"vm", names(kVms)},
        {"zap-all", {"on", "off"}},          {"vcpus", {"1", "2", "4"}},
        {"ranges", {"overlap", "disjoint"}}, {"layout", {"one", "two", "many"}},
    };
    return kAxes;
}

bool gmem(RaceBacking b) { return b == GuestMemfdShared || b == GuestMemfdPrivate; }

std::string reject(std::string_view axis, std::string why) {
    return fmt::format("axis '{}': {}", axis, why);
}

std::string reject_run(const RacePoint& p) {
    static constexpr Mutation kRun[] = {Delete,   MoveAway,    Madvise,      Remap,
                                        Mprotect, DirtyLogGet, DirtyLogClear};
    if (std::find(std::begin(kRun), std::end(kRun), p.mutation) == std::end(kRun))
        return reject("mutation", fmt::format("KVM_RUN races delete, move-away, madvise, remap, "
                                              "mprotect, dirty-log-get or dirty-log-clear, not {}",
                                              mutation_name(p.mutation)));
    if ((p.mutation == DirtyLogGet || p.mutation == DirtyLogClear) && gmem(p.backing))
        return reject("mutation", "a guest_memfd slot cannot log dirty pages (EINVAL)");
    if (p.backing == GuestMemfdPrivate)
        return reject("backing", "the KVM_RUN driver's guest fills shared memory");
    if ((p.mutation == Madvise || p.mutation == Remap) && p.backing != MemfdShared)
        return reject("backing", fmt::format("{} drops anonymous memory's data, which the guest "
                                             "verifies: memfd-shared keeps it",
                                             mutation_name(p.mutation)));
    if (p.mutation == Mprotect && gmem(p.backing))
        return reject("backing", "mprotect of a guest_memfd mapping is not raced");
    if (p.vcpus < 2) return reject("vcpus", "KVM_RUN races need two or more vCPUs");
    if (!p.disjoint) return reject("ranges", "KVM_RUN vCPUs fill disjoint parts of the slot");
    if (p.two_slots || p.many_slots) return reject("layout", "the KVM_RUN driver uses one slot");
    return "";
}

bool irq_mutation(Mutation m) { return m == IrqfdDeassign || m == EventfdClose; }

// The irq driver: one vCPU of a default VM taking interrupts; no memslot is raced.
std::string reject_irq(const RacePoint& p) {
    if (!irq_mutation(p.mutation))
        return reject("mutation",
                      fmt::format("the irq actor races irqfd-deassign or eventfd-close, "
                                  "not {}",
                                  mutation_name(p.mutation)));
    if (p.backing != Anonymous) return reject("backing", "the irq driver's slot is anon");
    if (p.vm != uapi::VmType::Default) return reject("vm", "the irq driver uses a default VM");
    if (p.zap_all_off) return reject("zap-all", "the irq driver changes no memslot");
    if (p.vcpus != 1) return reject("vcpus", "the irq driver interrupts one vCPU");
    if (p.disjoint) return reject("ranges", "the irq driver has no ranges");
    if (p.two_slots || p.many_slots) return reject("layout", "the irq driver uses one slot");
    return "";
}

std::string reject_prefault(const RacePoint& p) {
    if (irq_mutation(p.mutation))
        return reject("mutation", fmt::format("{} is the irq actor's", mutation_name(p.mutation)));
    if (p.mutation == PunchHole && !gmem(p.backing))
        return reject("backing", "punch-hole needs a guest_memfd backing");
    if (p.mutation == AttrToggle && p.backing != GuestMemfdPrivate)
        return reject("backing", "attr-toggle converts private guest_memfd memory: gmem-private");
    if ((p.mutation == Madvise || p.mutation == Remap) && p.backing != MemfdShared)
        return reject("backing", fmt::format("{} drops anonymous memory's data, which the final "
                                             "read verifies: memfd-shared keeps it",
                                             mutation_name(p.mutation)));
    if (p.mutation == Mprotect && gmem(p.backing))
        return reject("backing", "mprotect of a guest_memfd mapping is not raced");
    if (p.mutation == DirtyLogClear)
        return reject("mutation", "dirty-log-clear is raced by KVM_RUN (actor=run)");
    if (gmem(p.backing) && (p.mutation == DirtyLogToggle || p.mutation == DirtyLogGet))
        return reject("mutation", "a guest_memfd slot cannot log dirty pages (EINVAL)");
    if (p.two_slots && p.mutation != Delete)
        return reject("layout", "two slots: the driver deletes the second (mutation delete)");
    if (p.many_slots && p.mutation != Delete)
        return reject("layout", "many slots: the driver deletes one of them (mutation delete)");
    if (p.many_slots && p.backing != Anonymous && p.backing != MemfdShared)
        return reject("layout", "many slots are 256 KiB: 4 KiB pages, anon or memfd-shared");
    if ((p.two_slots || p.mutation == MoveCovering) && gmem(p.backing))
        return reject("layout", "needs the 4 MiB layout, guest_memfd slots are 256 KiB");
    if (p.mutation == Recreate && p.vcpus > 1)
        return reject("vcpus", "recreate has no concurrency: one vCPU");
    if (p.disjoint && p.vcpus == 1) return reject("ranges", "disjoint needs two or more vCPUs");
    return "";
}

std::deque<std::string>& interned() {
    static std::deque<std::string> names;  // string_views into it stay valid
    return names;
}

}  // namespace

std::span<const Axis> race_axes() { return axes(); }

std::string spec_of(const RacePoint& p) {
    return fmt::format(
        "actor={},mutation={},backing={},vm={},zap-all={},vcpus={},ranges={},layout={}",
        name_of(kActors, int(p.actor)), name_of(kMutations, int(p.mutation)),
        name_of(kBackings, int(p.backing)), name_of(kVms, int(p.vm)), p.zap_all_off ? "off" : "on",
        p.vcpus, p.disjoint ? "disjoint" : "overlap",
        p.many_slots  ? "many"
        : p.two_slots ? "two"
                      : "one");
}

std::string reject_reason(const RacePoint& p) {
    if (p.backing == GuestMemfdPrivate && p.vm != uapi::VmType::SwProtected)
        return reject("vm", "private guest_memfd memory needs a SW_PROTECTED VM");
    // Both drivers: KVM refuses these on guest_memfd slots (found by the first --explore run).
    if (gmem(p.backing) && (p.mutation == MoveAway || p.mutation == MoveCovering))
        return reject("mutation", "a guest_memfd slot cannot move (EINVAL)");
    if (p.zap_all_off && p.vm != uapi::VmType::Default)
        return reject("zap-all", "the SLOT_ZAP_ALL quirk is a default VM's (others zap the slot)");
    if (p.actor == Actor::Irq) return reject_irq(p);
    return p.actor == Actor::Run ? reject_run(p) : reject_prefault(p);
}

SpecParse parse_spec(std::string_view spec) {
    SpecParse out;
    RacePoint p;
    bool have_actor = false, have_mutation = false, have_vcpus = false, have_ranges = false;
    auto bad_value = [&](const Axis& a, std::string_view v) {
        out.error =
            fmt::format("axis '{}': unknown value '{}' ({})", a.name, v, fmt::join(a.values, "|"));
        return out;
    };
    std::vector<std::string_view> seen;
    for (std::string_view rest = spec; !rest.empty();) {
        std::string_view item = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), item.size() + 1));
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            out.error = fmt::format("'{}' is not axis=value", item);
            return out;
        }
        const std::string_view key = item.substr(0, eq), v = item.substr(eq + 1);
        const Axis* axis = nullptr;
        for (const Axis& a : axes())
            if (a.name == key) axis = &a;
        if (!axis) {
            std::vector<std::string_view> known;
            for (const Axis& a : axes()) known.push_back(a.name);
            out.error = fmt::format("unknown axis '{}' ({})", key, fmt::join(known, ", "));
            return out;
        }
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            out.error = fmt::format("axis '{}' given twice", key);
            return out;
        }
        seen.push_back(key);
        auto find = [&](const auto& table) -> std::optional<int> {
            for (const Named& n : table)
                if (n.name == v) return n.value;
            return std::nullopt;
        };
        if (key == "actor") {
            auto x = find(kActors);
            if (!x) return bad_value(*axis, v);
            p.actor = Actor(*x), have_actor = true;
        } else if (key == "mutation") {
            auto x = find(kMutations);
            if (!x) return bad_value(*axis, v);
            p.mutation = Mutation(*x), have_mutation = true;
        } else if (key == "backing") {
            auto x = find(kBackings);
            if (!x) return bad_value(*axis, v);
            p.backing = RaceBacking(*x);
        } else if (key == "vm") {
            auto x = find(kVms);
            if (!x) return bad_value(*axis, v);
            p.vm = uapi::VmType(*x);
        } else if (key == "zap-all") {
            if (v != "on" && v != "off") return bad_value(*axis, v);
            p.zap_all_off = v == "off";
        } else if (key == "vcpus") {
            if (v != "1" && v != "2" && v != "4") return bad_value(*axis, v);
            p.vcpus = unsigned(v[0] - '0'), have_vcpus = true;
        } else if (key == "ranges") {
            if (v != "overlap" && v != "disjoint") return bad_value(*axis, v);
            p.disjoint = v == "disjoint", have_ranges = true;
        } else if (key == "layout") {
            if (v != "one" && v != "two" && v != "many") return bad_value(*axis, v);
            p.two_slots = v == "two";
            p.many_slots = v == "many";
        }
    }
    if (!have_actor || !have_mutation) {
        out.error = fmt::format("axis '{}' is required", have_actor ? "mutation" : "actor");
        return out;
    }
    if (p.actor == Actor::Run) {  // the KVM_RUN driver's own defaults
        if (!have_vcpus) p.vcpus = 2;
        if (!have_ranges) p.disjoint = true;
    }
    if (std::string why = reject_reason(p); !why.empty()) {
        out.error = why;
        return out;
    }
    out.point = p;
    return out;
}

std::string point_needs(const RacePoint& p) {
    std::vector<std::string> needs;
    needs.push_back(p.actor == Actor::Prefault ? "KVM_CAP_PRE_FAULT_MEMORY (cap 236)"
                    : p.actor == Actor::Irq
                        ? "KVM_CAP_IRQCHIP, KVM_CAP_IRQFD, KVM_CAP_IRQ_ROUTING, KVM_CAP_SIGNAL_MSI "
                          "(caps 0, 32, 25, 77)"
                        : "KVM_RUN");
    if (p.vm == uapi::VmType::SwProtected)
        needs.push_back("VM type 1 in KVM_CAP_VM_TYPES (cap 235)");
    if (p.zap_all_off) needs.push_back("KVM_CAP_DISABLE_QUIRKS2 bit 7 (cap 213)");
    if (p.mutation == DirtyLogClear) needs.push_back("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (cap 168)");
    if (p.backing == GuestMemfdShared)
        needs.push_back("guest_memfd MMAP|INIT_SHARED (caps 234, 243)");
    if (p.backing == GuestMemfdPrivate || p.mutation == AttrToggle)
        needs.push_back("KVM_MEMORY_ATTRIBUTE_PRIVATE (cap 233)");
    return fmt::format("{}", fmt::join(needs, ", "));
}

std::vector<RacePoint> race_space() {
    std::vector<RacePoint> out;
    for (const Named& a : kActors)
        for (const Named& m : kMutations)
            for (const Named& b : kBackings)
                for (const Named& v : kVms)
                    for (bool zap_off : {false, true})
                        for (unsigned n : {1u, 2u, 4u})
                            for (bool disjoint : {false, true})
                                for (int layout : {0, 1, 2}) {
                                    RacePoint p{Actor(a.value),
                                                Mutation(m.value),
                                                RaceBacking(b.value),
                                                uapi::VmType(v.value),
                                                zap_off,
                                                n,
                                                disjoint,
                                                layout == 1,
                                                layout == 2};
                                    if (reject_reason(p).empty()) out.push_back(p);
                                }
    return out;
}

RacePoint point_of(const Scenario& s) {
    RacePoint p{s.actor,
                s.mutation == DeleteSecond || s.mutation == DeleteInMany ? Delete : s.mutation,
                s.backing,
                s.vm_type,
                s.slot_zap_all_off,
                s.vcpus,
                s.disjoint_ranges,
                s.mutation == DeleteSecond,
                s.mutation == DeleteInMany};
    return p;
}

Scenario scenario_of(const RacePoint& p) {
    for (const Scenario& s : scenario_catalog())
        if (point_of(s) == p) return s;
    static std::mutex mu;
    std::lock_guard lock(mu);
    interned().push_back("Explore:" + spec_of(p));
    const std::string_view name = interned().back();
    return Scenario{name,
                    p.actor,
                    p.two_slots    ? DeleteSecond
                    : p.many_slots ? DeleteInMany
                                   : p.mutation,
                    p.vm,
                    p.backing,
                    p.vcpus,
                    p.disjoint,
                    "a point of the race space (kvmrace --explore)",
                    p.zap_all_off};
}

std::vector<RacePoint> simpler_points(const RacePoint& p) {
    std::vector<RacePoint> out;
    auto add = [&](RacePoint q) {
        if (!(q == p) && reject_reason(q).empty()) out.push_back(q);
    };
    RacePoint q = p;
    q.vcpus = p.actor == Actor::Run ? 2 : 1;
    q.disjoint = p.actor == Actor::Run;
    add(q);
    q = p, q.two_slots = false, q.many_slots = false, add(q);
    q = p, q.backing = Anonymous, add(q);
    q = p, q.backing = Thp, add(q);
    q = p, q.zap_all_off = false, add(q);
    q = p, q.vm = uapi::VmType::Default, q.zap_all_off = p.zap_all_off, add(q);
    return out;
}

}  // namespace kvmrace
