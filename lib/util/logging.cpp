#include "util/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kvmrace {

void init_logging(int verbosity) {
    auto logger = spdlog::stderr_color_mt("kvmrace");
    logger->set_pattern("%^[%l]%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::level::level_enum level = spdlog::level::warn;
    if (verbosity < 0) level = spdlog::level::err;
    if (verbosity == 1) level = spdlog::level::info;
    if (verbosity >= 2) level = spdlog::level::debug;
    spdlog::set_level(level);
}

}  // namespace kvmrace
