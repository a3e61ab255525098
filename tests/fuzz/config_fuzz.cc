// Fuzz target: the config loader (common/config), which reads operator input at startup: the
// JSON file with ${VAR} interpolation, legacy aliases and inline apps, then environment values of
// every type. Input: "NAME=value" lines, an empty line, then the file text. Loading must end with
// a Config or an error listing problems, never a crash.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> env;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (line.empty()) break;
    const size_t eq = line.find('=');
    if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = line.substr(eq + 1);
  }
  sockudo::config::LoadOptions options;
  options.config_text = std::string(input);
  options.env = sockudo::config::MapEnv(std::move(env));
  auto loaded = sockudo::config::LoadConfig(options);
  if (loaded.ok()) sockudo::config::PrintConfig(loaded->config);
  return 0;
}
