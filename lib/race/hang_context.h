// What a race HANG means: each in-flight call's range placed against the memory layout the
// child publishes on the progress board (inside the mutated slot, another slot or no slot), the
// VM facts the kernel's memslot flush depends on, and the known bugs whose conditions match.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernel/version.h"
#include "race/scenario.h"
#include "watchdog/progress_board.h"

namespace kvmrace {

struct SlotSnapshot {
    uint32_t id = 0;
    bool mutated = false;
    uint64_t home_gpa = 0, size = 0;
    uint64_t gpa = 0;       // present: where it is; moving/adding: the target
    uint64_t from_gpa = 0;  // moving: where it moves from
    ProgressBoard::SlotState state = ProgressBoard::SlotState::Unused;
};

std::vector<SlotSnapshot> snapshot_slots(const ProgressBoard& b);

// "[0x40000000, 0x40400000): 0x400000 bytes inside the mutated slot 1 (being deleted)" and so
// on: one clause per place a slot now covers part of the range (a moving slot: its old and its
// new place), then the bytes no slot covers. Pure, so it is unit-tested.
std::string locate_range(uint64_t gpa, uint64_t size, std::span<const SlotSnapshot> slots);

// The lines a HANG report adds for a race scenario.
std::string describe_race_hang(const Scenario& s, const ProgressBoard& b, const KernelVersion& k,
                               const ErrataPresence& present);

}  // namespace kvmrace
