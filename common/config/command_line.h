// File: command_line.h
// The front of every sockudo binary: the flags only choose the config file and the mode;
// LoadStartupConfig then loads and validates the configuration, configures logging and logs the
// warnings. Shared by sockudo-node and sockudo-controlplane.
//
//   sockudo::config::StartupConfig startup;
//   if (auto exit_code = sockudo::config::LoadStartupConfig(argc, argv, "sockudo-node", kUsage,
//                                                            &startup)) {
//     return *exit_code;  // --help, --version, a bad flag or a bad config
//   }
#pragma once

#include <optional>

#include "common/config/config_loader.h"

namespace sockudo::config {

struct StartupConfig {
  Config config;
  bool check_only = false;  // --check-config: print the effective config (after the binary's own
                            // checks) and exit 0
};

// Parses --config FILE / --config=FILE / --check-config / --help / --version, loads the config
// and sets up logging. Returns the exit code when the process should end now: 0 after --help or
// --version (printed on stdout), 2 after an unknown flag or an invalid config (the reasons on
// stderr, one line each, prefixed with `program`).
std::optional<int> LoadStartupConfig(int argc, char** argv, const char* program, const char* usage,
                                     StartupConfig* out);

}  // namespace sockudo::config
