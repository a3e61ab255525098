// File: logging.h
// One named spdlog logger per module, configured once at startup.
//
//   auto log = sockudo::base::Logger("ws");
//   log->info("connection closed app_id={} code={}", id, code);
#pragma once

#include <memory>
#include <string>

#include "spdlog/spdlog.h"

namespace sockudo::base {

// Sets the level and format of every logger created now or later. `level` is one of spdlog's
// level names ("trace" … "off"); `json` selects one JSON object per line.
void ConfigureLogging(std::string_view level, bool json, bool include_target);

// Returns the logger named `name`, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(const std::string& name);

}  // namespace sockudo::base
