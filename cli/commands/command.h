// File: command.h
// What the command groups share: the global flags, the environment a command runs in (resolving
// server, token and TLS as flag > environment variable > context > default, loading the contexts
// file once, printing in the -o format), and the registry that maps the parsed leaf command to
// its action. Each group file adds its subcommands with an Add*Command function:
//
//   void AddAppsCommand(CLI::App& root, Commands& commands);
//   ...
//   commands.Bind(get, [&id](CommandEnv& env) { ... return client::kExitOk; });
//
// Everything here runs on the main thread.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/client/connection.h"
#include "cli/client/rpc_status.h"
#include "cli/config/config_file.h"
#include "cli/output/format.h"
#include "cli/output/table.h"
#include "google/protobuf/message.h"
#include "sockudo/controlplane/v1/common.pb.h"

namespace sockudo::cli {

struct GlobalFlags {
  std::string server;
  std::string token;
  bool tls = false;
  std::string ca_file;
  std::string context;
  std::string app;
  std::string output = "table";
  std::string timeout = "10s";
  std::string config_path;
  bool no_headers = false;
  // To tell a flag given on the command line from its default (config set-context).
  CLI::Option* server_option = nullptr;
  CLI::Option* token_option = nullptr;
  CLI::Option* tls_option = nullptr;
  CLI::Option* ca_file_option = nullptr;
  CLI::Option* app_option = nullptr;
};

// Registers the global flags on `root`.
void AddGlobalFlags(CLI::App& root, GlobalFlags& flags);

// "10s", "500ms", "2m", "1h" or plain seconds; nullopt when it is none of those or not positive.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);

class CommandEnv {
 public:
  CommandEnv(GlobalFlags& flags, const CLI::App* command) : flags_(flags), command_(command) {}

  GlobalFlags& flags() { return flags_; }
  const CLI::App* command() const { return command_; }
  output::Format format() const;
  bool headers() const { return !flags_.no_headers; }

  // The contexts file (from --config, else the XDG path), loaded once. Warns
  // on stderr when it is readable by others.
  absl::StatusOr<config::ConfigFile*> Config();
  // The context in use: --context, else the file's current-context; nullptr when neither names
  // one. An unknown --context is an error.
  absl::StatusOr<const config::Context*> CurrentContext();

  // Server, token, TLS, CA file and timeout: flag > SOCKUDO_* variable > context > default.
  absl::StatusOr<client::Target> ResolveTarget();
  absl::StatusOr<std::unique_ptr<client::Connection>> Connect();
  // The app of app-scoped commands: --app > SOCKUDO_APP > the context's app.
  absl::StatusOr<std::string> ResolveApp();

  // Prints `message` as -o says; for table and wide, what `table(wide)` builds.
  int Print(const google::protobuf::Message& message,
            const std::function<output::Table(bool wide)>& table);
  // The same with text of its own for table and wide (several tables, say).
  int PrintText(const google::protobuf::Message& message,
                const std::function<std::string(bool wide)>& text);
  // Prints a line for the table formats, or `message` for json and yaml.
  int PrintDone(const google::protobuf::Message& message, const std::string& line);

  // "Error: <message>" and the help hint on stderr; returns 2.
  int UsageError(const std::string& message) const;
  // "Error: <message>" on stderr; returns 1.
  int Failure(const std::string& message) const;
  // "Warning: partial answer ..." when not every node answered, or none was asked.
  void WarnIfPartial(const controlplane::v1::ClusterAnswer& answer) const;

 private:
  GlobalFlags& flags_;
  const CLI::App* command_;
  std::optional<config::ConfigFile> config_;
};

using Action = std::function<int(CommandEnv&)>;

// Leaf commands and their actions. CLI11 runs the callback of the parsed leaf, which records it;
// the action itself runs after parsing succeeded.
class Commands {
 public:
  void Bind(CLI::App* command, Action action);
  // The parsed leaf, or nullptr when the command line named only a group (or nothing).
  CLI::App* selected() const { return selected_; }
  int Run(CommandEnv& env) const;

 private:
  std::map<const CLI::App*, Action> actions_;
  CLI::App* selected_ = nullptr;
};

// "sockudoctl apps get".
std::string CommandPath(const CLI::App* command);
// Adds an "Examples:" section to the help of `command`.
void SetExamples(CLI::App* command, std::initializer_list<const char*> lines);

// "apps/{id}" from "{id}" or "apps/{id}".
std::string AppName(const std::string& app);

}  // namespace sockudo::cli
