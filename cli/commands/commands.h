// File: commands.h
// The command groups of sockudoctl, one file each: apps_command.cc, cluster_command.cc (status,
// nodes; watch in cluster_watch.cc), users_command.cc, channels_command.cc, publish_command.cc,
// config_command.cc, version_command.cc, completion_command.cc. Each adds its subcommands to
// `root` and binds their actions in `commands`.
#pragma once

#include "CLI/CLI.hpp"
#include "cli/commands/command.h"

namespace sockudo::cli {

// apps list|get|create|update|delete|rotate-secret|enable|disable. create and update take one
// flag per App field (--max-connections, --enable-client-messages[=false], ...) generated from
// the App message, or an App as JSON with -f.
void AddAppsCommand(CLI::App& root, Commands& commands);
void AddClusterCommand(CLI::App& root, Commands& commands);
void AddUsersCommand(CLI::App& root, Commands& commands);
void AddChannelsCommand(CLI::App& root, Commands& commands);
void AddPublishCommand(CLI::App& root, Commands& commands);
void AddConfigCommand(CLI::App& root, Commands& commands);
void AddVersionCommand(CLI::App& root, Commands& commands);
// `completion bash` walks `root` when it runs, so it sees every command added before or after.
void AddCompletionCommand(CLI::App& root, Commands& commands);

}  // namespace sockudo::cli
