// What makes two explore results the same finding: the verdict, plus the known erratum whose
// conditions the point meets (a HANG there is that bug), or the top kernel frames of the stuck
// threads, or the contract clause a FAIL broke, with numbers and addresses masked.
#pragma once

#include <string>

#include "kernel/errata.h"
#include "race/scenario.h"
#include "watchdog/supervisor.h"

namespace kvmrace {

struct Finding {
    std::string signature;  // "HANG known:prefault-stale-root", "FAIL EAGAIN with no delete/..."
    std::string erratum;    // the known erratum it is, "" for a new one
};

// "" signature for a PASS or SKIP: not a finding.
Finding finding_of(const Scenario& s, const SupervisedRun& r, const KernelVersion& k,
                   const ErrataPresence& present);

// "kvm_tdp_map_page+0x74/0xb5" -> "kvm_tdp_map_page"; "[<0>] 0xffffffff8124aa4a" -> "" (no
// symbol); digits and hex in a message -> "N".
std::string frame_function(const std::string& frame);
std::string mask_numbers(const std::string& text);

}  // namespace kvmrace
