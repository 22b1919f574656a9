// Host side of the ucall protocol (guest/abi.h): recognizing a ucall exit and describing it.
#pragma once

#include <linux/kvm.h>

#include <optional>
#include <span>
#include <string>

#include "abi.h"

namespace kvmrace {

// The GPA a ucall OUT carried, if this exit is one.
std::optional<uint64_t> ucall_gpa(const kvm_run& run);
// Reads the Ucall at `gpa` from the system slot memory (GPA 0 based); nullopt if out of range.
std::optional<abi::Ucall> read_ucall(std::span<const uint8_t> system_slot, uint64_t gpa);
// "SYNC(3)", "ASSERT at memory.cpp:12: text", "EXCEPTION vector=14 error=0x2 rip=... cr2=...".
std::string describe(const abi::Ucall& uc);

}  // namespace kvmrace
