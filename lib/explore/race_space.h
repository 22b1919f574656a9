// The race space: a scenario is a point in a product of axes (actor, mutation, backing, VM type,
// SLOT_ZAP_ALL quirk, vCPU count, ranges, slot layout). Points outside what the drivers and KVM
// can do are rejected by a rule that names the axis and the reason; every curated catalog row is
// a point of the space (same name, same verdicts). Specs are "axis=value,..." strings that
// `--scenario-spec` takes and `--explore` prints for replay. Pure: unit-tested.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "race/scenario.h"

namespace kvmrace {

struct RacePoint {
    Actor actor = Actor::Prefault;
    Mutation mutation = Mutation::Delete;  // DeleteSecond/DeleteInMany: delete + layout two/many
    RaceBacking backing = RaceBacking::Anonymous;
    uapi::VmType vm = uapi::VmType::Default;
    bool zap_all_off = false;
    unsigned vcpus = 1;
    bool disjoint = false;    // ranges: each vCPU its own part
    bool two_slots = false;   // layout: the range spans two adjacent slots, the second mutated
    bool many_slots = false;  // layout: the range spans 16 small slots, a middle one mutated
    bool operator==(const RacePoint&) const = default;
};

struct Axis {
    std::string_view name;
    std::vector<std::string_view> values;
};
// The axes and their values, in spec order.
std::span<const Axis> race_axes();

// "actor=prefault,mutation=delete,backing=anon,vm=default,zap-all=on,vcpus=1,ranges=overlap,
// layout=one": every axis, in order.
std::string spec_of(const RacePoint& p);

struct SpecParse {
    std::optional<RacePoint> point;
    std::string error;  // "axis 'backing': unknown value 'x' (anon|thp|...)", or the rule broken
};
// Axes left out take their defaults (backing anon, vm default, zap-all on, vcpus 1 (2 for run),
// ranges overlap (disjoint for run), layout one); actor and mutation are required.
SpecParse parse_spec(std::string_view spec);

// "" when the drivers can run the point, else "axis 'X': why not".
std::string reject_reason(const RacePoint& p);

// What the point needs of the kernel, in words (capability numbers), for --list-style output.
std::string point_needs(const RacePoint& p);

// Every point the rules accept, in a fixed order.
std::vector<RacePoint> race_space();

RacePoint point_of(const Scenario& s);
// The scenario to run: the catalog row with the same axes (its name and description), else a
// generated one named by its spec.
Scenario scenario_of(const RacePoint& p);

// Simpler neighbours of a point, for shrinking a finding: one axis moved toward its default.
std::vector<RacePoint> simpler_points(const RacePoint& p);

}  // namespace kvmrace
