// File: config_file.h
// sockudoctl's contexts file: named connection settings (server, token, TLS, CA file, default
// app) and the current context, kept as YAML in $XDG_CONFIG_HOME/sockudo/config (else
// ~/.config/sockudo/config, or the file given with --config). Written atomically (temp file +
// rename) with mode 0600 in a directory created 0700, since it holds bearer tokens.
//
//   auto file = config::ConfigFile::Load(config::DefaultConfigPath());
//   file->SetContext({.name = "prod", .server = "cp.example:50051"});
//   file->set_current_context("prod");
//   auto st = file->Save();
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sockudo::cli::config {

struct Context {
  std::string name;
  std::string server;  // host:port; empty = not set here
  std::string token;   // bearer token; empty = none
  std::optional<bool> tls;
  std::string ca_file;  // PEM roots for --tls; empty = system roots
  std::string app;      // default app of app-scoped commands (--app)
};

class ConfigFile {
 public:
  // Reads `path`; a missing file is an empty config. A file that does not parse is an error
  // naming it.
  static absl::StatusOr<ConfigFile> Load(std::string path);

  const std::string& path() const { return path_; }
  bool exists() const { return exists_; }
  // A warning when the file is readable by group or others (it holds tokens), else empty.
  const std::string& permission_warning() const { return permission_warning_; }

  const std::vector<Context>& contexts() const { return contexts_; }
  const std::string& current_context() const { return current_context_; }
  void set_current_context(std::string name) { current_context_ = std::move(name); }

  const Context* Find(const std::string& name) const;
  // Adds or replaces the context of that name.
  void SetContext(Context context);
  // False when there is none of that name. Clears current-context if it named it.
  bool DeleteContext(const std::string& name);

  std::string ToYaml(bool redact_tokens) const;
  absl::Status Save() const;

 private:
  std::string path_;
  bool exists_ = false;
  std::string permission_warning_;
  std::string current_context_;
  std::vector<Context> contexts_;
};

// $XDG_CONFIG_HOME/sockudo/config, else $HOME/.config/sockudo/config.
std::string DefaultConfigPath();

}  // namespace sockudo::cli::config
