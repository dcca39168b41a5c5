#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace beckon {

// Configures the process-wide logger: human-readable lines or one JSON object per line, at the
// given level ("debug", "info", "warn", "error"). Call once at start-up, before threads start.
// Logs at info and above never carry customer personal data (ids, addresses, cart contents).
void init_logging(bool json, std::string_view level);

// The line format init_logging installs (exposed for tests).
std::unique_ptr<spdlog::formatter> make_log_formatter(bool json);

}  // namespace beckon
