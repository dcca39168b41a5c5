#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace beckon {

void init_logging(bool json, std::string_view level) {
  auto logger = spdlog::stderr_color_mt("beckon");
  if (json) {
    logger->set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace beckon
