// Races on confidential VMs (catalog rows whose actor is Populate or CocoPrefault): the skip
// model (coco_caps) first, then the scenario in the supervised child.
#pragma once

#include <string>

#include "race/race_config.h"

namespace kvmrace {

class System;

bool is_coco_scenario(const Scenario& s);
std::string coco_scenario_skip_reason(const Scenario& s, const System& sys);
void run_coco_scenario(const Scenario& s, const RaceConfig& cfg, ProgressBoard& board);

}  // namespace kvmrace
