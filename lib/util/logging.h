// spdlog set-up: one logger on stderr, level from -q / -v.
#pragma once

namespace kvmrace {

void init_logging(int verbosity);

}  // namespace kvmrace
