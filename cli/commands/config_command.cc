// sockudoctl config view|get-contexts|current-context|use-context|set-context|delete-context:
// the contexts file (config/config_file.h). No server is contacted.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "nlohmann/json.hpp"

namespace sockudo::cli {
namespace {

nlohmann::json ContextJson(const config::Context& context, bool redact) {
  nlohmann::json value = {{"name", context.name}};
  if (!context.server.empty()) value["server"] = context.server;
  if (!context.token.empty()) value["token"] = redact ? "REDACTED" : context.token;
  if (context.tls.has_value()) value["tls"] = *context.tls;
  if (!context.ca_file.empty()) value["ca-file"] = context.ca_file;
  if (!context.app.empty()) value["app"] = context.app;
  return value;
}

// The file's own key names (current-context, ca-file), in JSON as in YAML, as kubectl does.
nlohmann::json ConfigJson(const config::ConfigFile& file, bool redact) {
  nlohmann::json contexts = nlohmann::json::array();
  for (const auto& context : file.contexts()) contexts.push_back(ContextJson(context, redact));
  return {{"current-context", file.current_context()}, {"contexts", contexts}};
}

// Loads the file or prints why not (exit 1 through `exit_code`).
config::ConfigFile* LoadOrFail(CommandEnv& env, int* exit_code) {
  auto file = env.Config();
  if (!file.ok()) {
    *exit_code = env.Failure(std::string(file.status().message()));
    return nullptr;
  }
  return *file;
}

int Save(CommandEnv& env, const config::ConfigFile& file, const std::string& done) {
  if (auto status = file.Save(); !status.ok()) return env.Failure(std::string(status.message()));
  std::cout << done << "\n";
  return client::kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& root, Commands& commands) {
  CLI::App* cfg = root.add_subcommand(
      "config",
      "named contexts (server, token, TLS, default app) in $XDG_CONFIG_HOME/sockudo/config "
      "(else ~/.config/sockudo/config; mode 0600)");
  SetExamples(cfg, {"sockudoctl config set-context prod --server cp.example.com:50051 "
                    "--token \"$TOKEN\" --tls --use",
                    "sockudoctl config get-contexts", "sockudoctl config use-context local"});

  auto raw = std::make_shared<bool>(false);
  CLI::App* view = cfg->add_subcommand("view", "print the config file (tokens redacted)");
  view->add_flag("--raw", *raw, "print tokens too");
  SetExamples(view, {"sockudoctl config view", "sockudoctl config view -o json"});
  commands.Bind(view, [raw](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    if (env.format() == output::Format::kJson) {
      std::cout << output::JsonValueToJson(ConfigJson(*file, !*raw));
    } else {
      std::cout << file->ToYaml(!*raw);
    }
    return client::kExitOk;
  });

  CLI::App* get_contexts = cfg->add_subcommand("get-contexts", "list the contexts");
  SetExamples(get_contexts,
              {"sockudoctl config get-contexts", "sockudoctl config get-contexts -o json"});
  commands.Bind(get_contexts, [](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    switch (env.format()) {
      case output::Format::kJson:
        std::cout << output::JsonValueToJson(ConfigJson(*file, true));
        break;
      case output::Format::kYaml:
        std::cout << output::JsonValueToYaml(ConfigJson(*file, true));
        break;
      default: {
        const bool wide = env.format() == output::Format::kWide;
        std::vector<std::string> headers = {"CURRENT", "NAME", "SERVER", "TLS", "APP", "TOKEN"};
        if (wide) headers.push_back("CA-FILE");
        output::Table table(headers);
        for (const auto& c : file->contexts()) {
          std::vector<std::string> row = {c.name == file->current_context() ? "*" : "",
                                          c.name,
                                          c.server.empty() ? "-" : c.server,
                                          c.tls.has_value() ? output::FormatBool(*c.tls) : "-",
                                          c.app.empty() ? "-" : c.app,
                                          c.token.empty() ? "none" : "set"};
          if (wide) row.push_back(c.ca_file.empty() ? "-" : c.ca_file);
          table.AddRow(row);
        }
        std::cout << table.Render(env.headers());
      }
    }
    return client::kExitOk;
  });

  CLI::App* current = cfg->add_subcommand("current-context", "print the current context's name");
  SetExamples(current, {"sockudoctl config current-context"});
  commands.Bind(current, [](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    if (file->current_context().empty()) return env.Failure("current-context is not set");
    std::cout << file->current_context() << "\n";
    return client::kExitOk;
  });

  auto use_name = std::make_shared<std::string>();
  CLI::App* use = cfg->add_subcommand("use-context", "make a context the current one");
  use->add_option("NAME", *use_name, "context name")->required();
  SetExamples(use, {"sockudoctl config use-context prod"});
  commands.Bind(use, [use_name](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    if (file->Find(*use_name) == nullptr) {
      return env.Failure(absl::StrCat("no context named \"", *use_name, "\" in ", file->path()));
    }
    file->set_current_context(*use_name);
    return Save(env, *file, absl::StrCat("Switched to context \"", *use_name, "\"."));
  });

  struct SetArgs {
    std::string name;
    bool use = false;
  };
  auto set_args = std::make_shared<SetArgs>();
  CLI::App* set = cfg->add_subcommand(
      "set-context",
      "create or change a context from the global flags given: --server, --token, --tls, "
      "--ca-file, --app (others keep their value)");
  set->add_option("NAME", set_args->name, "context name")->required();
  set->add_flag("--use", set_args->use, "also make it the current context");
  SetExamples(set, {"sockudoctl config set-context local --server 127.0.0.1:50051 --use",
                    "sockudoctl config set-context prod --server cp.example.com:443 --tls "
                    "--token \"$TOKEN\" --app chat",
                    "sockudoctl config set-context prod --tls=false"});
  commands.Bind(set, [set_args](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    GlobalFlags& flags = env.flags();
    const config::Context* existing = file->Find(set_args->name);
    config::Context context = existing != nullptr ? *existing : config::Context{};
    context.name = set_args->name;
    if (flags.server_option->count() > 0) context.server = flags.server;
    if (flags.token_option->count() > 0) context.token = flags.token;
    if (flags.tls_option->count() > 0) context.tls = flags.tls;
    if (flags.ca_file_option->count() > 0) context.ca_file = flags.ca_file;
    if (flags.app_option->count() > 0) context.app = flags.app;
    file->SetContext(context);
    if (set_args->use || file->current_context().empty()) {
      file->set_current_context(set_args->name);
    }
    return Save(env, *file,
                absl::StrCat("Context \"", set_args->name, "\" ",
                             existing != nullptr ? "modified" : "created",
                             file->current_context() == set_args->name ? " (current)." : "."));
  });

  auto delete_name = std::make_shared<std::string>();
  CLI::App* del = cfg->add_subcommand("delete-context", "remove a context");
  del->add_option("NAME", *delete_name, "context name")->required();
  SetExamples(del, {"sockudoctl config delete-context old"});
  commands.Bind(del, [delete_name](CommandEnv& env) {
    int code = 0;
    config::ConfigFile* file = LoadOrFail(env, &code);
    if (file == nullptr) return code;
    if (!file->DeleteContext(*delete_name)) {
      return env.Failure(absl::StrCat("no context named \"", *delete_name, "\" in ", file->path()));
    }
    return Save(env, *file, absl::StrCat("Deleted context \"", *delete_name, "\"."));
  });
}

}  // namespace sockudo::cli
