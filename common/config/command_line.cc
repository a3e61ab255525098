#include "common/config/command_line.h"

#include <iostream>
#include <string>

#include "common/base/logging.h"

namespace sockudo::config {

std::optional<int> LoadStartupConfig(int argc, char** argv, const char* program, const char* usage,
                                     StartupConfig* out) {
  LoadOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--version") {
      std::cout << program << " " << SOCKUDO_VERSION << "\n";
      return 0;
    } else if (arg == "--check-config") {
      out->check_only = true;
    } else if (arg == "--config" && i + 1 < argc) {
      options.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      options.config_path = arg.substr(9);
    } else {
      std::cerr << program << ": unknown argument \"" << arg << "\"\n\n" << usage;
      return 2;
    }
  }

  auto loaded = LoadConfig(options);
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return 2;
  }
  out->config = std::move(loaded->config);
  const Config& config = out->config;
  base::ConfigureLogging(config.EffectiveLogLevel(), config.logging.format == "json",
                         config.logging.include_target);
  auto log = base::Logger("main");
  for (const std::string& w : loaded->warnings) log->warn("config warning: {}", w);
  return std::nullopt;
}

}  // namespace sockudo::config
