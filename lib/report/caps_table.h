// `kvmrace --caps`: every known capability with its system-wide and per-VM value.
#pragma once

#include <cstdio>

namespace kvmrace {

class System;

void print_caps_table(const System& system, std::FILE* out);

}  // namespace kvmrace
