#include "cli/commands/command.h"

#include <cstdlib>
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sockudo::cli {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool Given(const CLI::Option* option) { return option != nullptr && option->count() > 0; }

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  struct Unit {
    const char* suffix;
    double ms;
  };
  static const Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  std::string number = text;
  double scale = 1000;
  for (const Unit& unit : kUnits) {
    const std::string suffix = unit.suffix;
    if (text.size() > suffix.size() &&
        text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0) {
      number = text.substr(0, text.size() - suffix.size());
      scale = unit.ms;
      break;
    }
  }
  double value = 0;
  if (!absl::SimpleAtod(number, &value) || !(value > 0) || value * scale > 86400000.0 * 365) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * scale + 0.5));
}

void AddGlobalFlags(CLI::App& root, GlobalFlags& flags) {
  const char* kGroup = "Global flags";
  flags.server_option =
      root.add_option("-s,--server", flags.server,
                      "control plane gRPC address host:port (env SOCKUDO_SERVER; default " +
                          std::string(client::kDefaultServer) + ")")
          ->type_name("HOST:PORT")
          ->group(kGroup);
  flags.token_option = root.add_option("--token", flags.token,
                                       "bearer token of the control plane (env SOCKUDO_TOKEN)")
                           ->type_name("TOKEN")
                           ->group(kGroup);
  flags.tls_option =
      root.add_flag("--tls", flags.tls, "connect with TLS (--tls=false: without)")->group(kGroup);
  flags.ca_file_option =
      root.add_option("--ca-file", flags.ca_file, "PEM file of the CA roots for --tls")
          ->type_name("FILE")
          ->group(kGroup);
  root.add_option("--context", flags.context, "use this context of the config file")
      ->type_name("NAME")
      ->group(kGroup);
  flags.app_option = root.add_option("-a,--app", flags.app,
                                     "app of channels, users and publish (env SOCKUDO_APP; "
                                     "else the context's app)")
                         ->type_name("APP")
                         ->group(kGroup);
  root.add_option("-o,--output", flags.output, "output format: table, wide, json or yaml")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}))
      ->group(kGroup);
  root.add_flag("--no-headers", flags.no_headers, "tables without their header line")
      ->group(kGroup);
  root.add_option("--timeout", flags.timeout, "deadline of each call (default 10s)")
      ->type_name("DURATION")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            return ParseDuration(value) ? "" : "expected a duration such as 10s, 500ms or 2m";
          },
          ""))
      ->group(kGroup);
  root.add_option("--config", flags.config_path,
                  "contexts file (default $XDG_CONFIG_HOME/sockudo/config, else "
                  "~/.config/sockudo/config)")
      ->type_name("FILE")
      ->group(kGroup);
}

output::Format CommandEnv::format() const {
  return output::ParseFormat(flags_.output).value_or(output::Format::kTable);
}

absl::StatusOr<config::ConfigFile*> CommandEnv::Config() {
  if (!config_.has_value()) {
    const std::string path =
        flags_.config_path.empty() ? config::DefaultConfigPath() : flags_.config_path;
    auto loaded = config::ConfigFile::Load(path);
    if (!loaded.ok()) return loaded.status();
    config_ = std::move(*loaded);
    if (!config_->permission_warning().empty()) {
      std::cerr << "Warning: " << config_->permission_warning() << "\n";
    }
  }
  return &*config_;
}

absl::StatusOr<const config::Context*> CommandEnv::CurrentContext() {
  auto file = Config();
  if (!file.ok()) return file.status();
  if (!flags_.context.empty()) {
    const config::Context* context = (*file)->Find(flags_.context);
    if (context == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("--context: no context named \"",
                                                     flags_.context, "\" in ", (*file)->path()));
    }
    return context;
  }
  if ((*file)->current_context().empty()) return nullptr;
  // A current-context that names nothing (hand-edited file) is ignored, not fatal.
  return (*file)->Find((*file)->current_context());
}

absl::StatusOr<client::Target> CommandEnv::ResolveTarget() {
  auto context = CurrentContext();
  if (!context.ok()) return context.status();
  const config::Context* ctx = *context;
  const std::string ctx_label = ctx != nullptr ? absl::StrCat("context \"", ctx->name, "\"") : "";

  client::Target target;
  if (!flags_.server.empty()) {
    target.address = flags_.server;
    target.address_source = "--server";
  } else if (!Env("SOCKUDO_SERVER").empty()) {
    target.address = Env("SOCKUDO_SERVER");
    target.address_source = "SOCKUDO_SERVER";
  } else if (ctx != nullptr && !ctx->server.empty()) {
    target.address = ctx->server;
    target.address_source = ctx_label;
  }
  if (Given(flags_.token_option)) {
    target.token = flags_.token;
  } else if (!Env("SOCKUDO_TOKEN").empty()) {
    target.token = Env("SOCKUDO_TOKEN");
  } else if (ctx != nullptr) {
    target.token = ctx->token;
  }
  if (Given(flags_.tls_option)) {
    target.tls = flags_.tls;
  } else if (ctx != nullptr && ctx->tls.has_value()) {
    target.tls = *ctx->tls;
  }
  if (Given(flags_.ca_file_option)) {
    target.ca_file = flags_.ca_file;
  } else if (ctx != nullptr) {
    target.ca_file = ctx->ca_file;
  }
  // Scheme prefixes people paste from URLs: https:// means TLS.
  for (const char* scheme : {"https://", "http://", "grpc://", "grpcs://"}) {
    const std::string prefix = scheme;
    if (target.address.rfind(prefix, 0) == 0) {
      target.address = target.address.substr(prefix.size());
      if (prefix == "https://" || prefix == "grpcs://") target.tls = true;
      while (!target.address.empty() && target.address.back() == '/') target.address.pop_back();
    }
  }
  if (!target.ca_file.empty()) target.tls = true;
  if (target.address.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(target.address_source, ": empty address"));
  }
  target.timeout = ParseDuration(flags_.timeout).value_or(std::chrono::milliseconds(10000));
  return target;
}

absl::StatusOr<std::unique_ptr<client::Connection>> CommandEnv::Connect() {
  auto target = ResolveTarget();
  if (!target.ok()) return target.status();
  return client::Connection::Open(*std::move(target));
}

absl::StatusOr<std::string> CommandEnv::ResolveApp() {
  if (!flags_.app.empty()) return flags_.app;
  if (!Env("SOCKUDO_APP").empty()) return Env("SOCKUDO_APP");
  auto context = CurrentContext();
  if (!context.ok()) return context.status();
  if (*context != nullptr && !(*context)->app.empty()) return (*context)->app;
  return absl::InvalidArgumentError(
      "--app is required (or SOCKUDO_APP, or a context's app: sockudoctl config set-context "
      "NAME --app APP)");
}

int CommandEnv::Print(const google::protobuf::Message& message,
                      const std::function<output::Table(bool wide)>& table) {
  switch (format()) {
    case output::Format::kJson:
      std::cout << output::ToJson(message);
      break;
    case output::Format::kYaml:
      std::cout << output::ToYaml(message);
      break;
    case output::Format::kTable:
    case output::Format::kWide:
      std::cout << table(format() == output::Format::kWide).Render(headers());
      break;
  }
  std::cout.flush();
  return client::kExitOk;
}

int CommandEnv::PrintText(const google::protobuf::Message& message,
                          const std::function<std::string(bool wide)>& text) {
  if (format() == output::Format::kJson || format() == output::Format::kYaml) {
    return Print(message, nullptr);
  }
  std::cout << text(format() == output::Format::kWide);
  std::cout.flush();
  return client::kExitOk;
}

int CommandEnv::PrintDone(const google::protobuf::Message& message, const std::string& line) {
  if (format() == output::Format::kJson || format() == output::Format::kYaml) {
    return Print(message, nullptr);
  }
  std::cout << line << "\n";
  std::cout.flush();
  return client::kExitOk;
}

int CommandEnv::UsageError(const std::string& message) const {
  std::cerr << "Error: " << message << "\n";
  if (command_ != nullptr) {
    std::cerr << "Run '" << CommandPath(command_) << " --help' for usage.\n";
  }
  return client::kExitUsage;
}

int CommandEnv::Failure(const std::string& message) const {
  std::cerr << "Error: " << message << "\n";
  return client::kExitServerError;
}

void CommandEnv::WarnIfPartial(const controlplane::v1::ClusterAnswer& answer) const {
  if (answer.expected_responses() == 0) {
    std::cerr << "Warning: the control plane knows no alive node (no heartbeat heard yet?): "
                 "nothing was asked\n";
    return;
  }
  if (answer.complete()) return;
  std::cerr << "Warning: partial answer: " << answer.responses_received() << " of "
            << answer.expected_responses() << " nodes answered in time\n";
}

void Commands::Bind(CLI::App* command, Action action) {
  actions_[command] = std::move(action);
  command->callback([this, command] { selected_ = command; });
}

int Commands::Run(CommandEnv& env) const {
  auto it = actions_.find(selected_);
  if (it == actions_.end()) return client::kExitUsage;
  return it->second(env);
}

std::string CommandPath(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* app = command; app != nullptr; app = app->get_parent()) {
    names.insert(names.begin(), app->get_name());
  }
  return absl::StrJoin(names, " ");
}

void SetExamples(CLI::App* command, std::initializer_list<const char*> lines) {
  std::string text = "Examples:\n";
  for (const char* line : lines) absl::StrAppend(&text, "  ", line, "\n");
  absl::StrAppend(&text,
                  "\nGlobal flags (--server, --token, --tls, --context, --app, -o, --timeout, "
                  "--config) work with every command: sockudoctl --help");
  command->footer(text);
}

std::string AppName(const std::string& app) {
  if (app.rfind("apps/", 0) == 0) return app;
  return "apps/" + app;
}

}  // namespace sockudo::cli
