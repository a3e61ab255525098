#include "common/base/logging.h"

#include <mutex>

#include "spdlog/sinks/stdout_color_sinks.h"

namespace sockudo::base {
namespace {

std::mutex& Mutex() {
  static std::mutex m;
  return m;
}

struct Settings {
  spdlog::level::level_enum level = spdlog::level::info;
  std::string pattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v";
};

Settings& CurrentSettings() {
  static Settings s;
  return s;
}

}  // namespace

void ConfigureLogging(std::string_view level, bool json, bool include_target) {
  std::lock_guard lock(Mutex());
  Settings& s = CurrentSettings();
  s.level = spdlog::level::from_str(std::string(level));
  if (json) {
    s.pattern =
        include_target
            ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","target":"%n","message":"%v"})"
            : R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%v"})";
  } else {
    s.pattern =
        include_target ? "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v" : "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";
  }
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->set_level(s.level);
    l->set_pattern(s.pattern, spdlog::pattern_time_type::utc);
  });
}

std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  std::lock_guard lock(Mutex());
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_level(CurrentSettings().level);
  logger->set_pattern(CurrentSettings().pattern, spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace sockudo::base
