// sockudoctl apps ...: the Apps service.
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/client/all_pages.h"
#include "cli/commands/commands.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "sockudo/controlplane/v1/apps.grpc.pb.h"

namespace sockudo::cli {
namespace {

namespace v1 = controlplane::v1;
using google::protobuf::FieldDescriptor;

// Help text of the generated field flags; the flag name is the field path.
const std::map<std::string, std::string>& FieldHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"key", "public key (/app/{key}); generated when empty"},
      {"secret", "HMAC secret; generated when empty"},
      {"enabled", "accept connections and API calls"},
      {"enable_client_messages", "allow client-* events on private and presence channels"},
      {"enable_user_authentication", "require pusher:signin"},
      {"enable_watchlist_events", "send watchlist online/offline events"},
      {"max_connections", "connection quota (-1: unlimited)"},
      {"max_client_events_per_second", "client events per second per socket"},
      {"max_backend_events_per_second", "HTTP API events per second"},
      {"max_read_requests_per_second", "HTTP API reads per second"},
      {"max_presence_members_per_channel", "members per presence channel"},
      {"max_presence_member_size_in_kb", "size of one member's user_info"},
      {"max_channel_name_length", "longest channel name"},
      {"max_event_channels_at_once", "channels of one publish"},
      {"max_event_name_length", "longest event name"},
      {"max_event_payload_in_kb", "largest event data"},
      {"max_event_batch_size", "events of one batch publish"},
      {"decay_seconds", "rate limit window"},
      {"terminate_on_limit", "close a socket over its rate limit"},
  };
  return *help;
}

// Flags of create / update: one per settable scalar field of App (nested message fields with
// their path, message_rate_limit.enabled -> --message-rate-limit-enabled), the two lists, -f.
struct AppFlags {
  std::map<std::string, std::string> values;  // field path -> text given
  std::map<std::string, CLI::Option*> options;
  std::vector<std::string> allowed_origins;
  CLI::Option* allowed_origins_option = nullptr;
  std::string webhooks;
  CLI::Option* webhooks_option = nullptr;
  std::string file;
};

std::string FlagName(const std::string& path) {
  return "--" + absl::StrReplaceAll(path, {{"_", "-"}, {".", "-"}});
}

void AddFieldFlags(CLI::App* command, AppFlags& flags, const google::protobuf::Descriptor* type,
                   const std::string& prefix, bool create) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const std::string path = prefix + field->name();
    if (path == "name" || path == "id" || field->is_repeated()) continue;
    if (path == "secret" && !create) continue;  // rotate-secret changes it
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->message_type()->file() == type->file()) {
        AddFieldFlags(command, flags, field->message_type(), path + ".", create);
      }
      continue;
    }
    auto it = FieldHelp().find(path);
    std::string help = it != FieldHelp().end() ? it->second : "app." + path;
    std::string& value = flags.values[path];
    CLI::Option* option;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      option = command->add_flag(FlagName(path), value, help + " (=false to turn off)");
    } else {
      const bool integer = field->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
                           field->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
      const bool real = field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE;
      option = command->add_option(FlagName(path), value, help)
                   ->type_name(integer ? "INT"
                               : real  ? "NUMBER"
                                       : "TEXT");
    }
    option->group("App fields");
    flags.options[path] = option;
  }
}

void AddAppFlags(CLI::App* command, AppFlags& flags, bool create) {
  AddFieldFlags(command, flags, v1::App::descriptor(), "", create);
  flags.allowed_origins_option =
      command
          ->add_option("--allowed-origins", flags.allowed_origins,
                       "allowed WebSocket origins, comma-separated (\"\": all)")
          ->delimiter(',')
          ->type_name("ORIGIN,...")
          ->group("App fields");
  flags.webhooks_option =
      command
          ->add_option("--webhooks", flags.webhooks,
                       "webhooks as a JSON array, e.g. "
                       "'[{\"url\":\"https://x/hook\",\"event_types\":[\"channel_occupied\"]}]'")
          ->type_name("JSON")
          ->group("App fields");
  command
      ->add_option("-f,--filename", flags.file,
                   "an App as JSON (protobuf JSON names; - reads stdin); flags override it")
      ->type_name("FILE");
}

absl::Status SetField(google::protobuf::Message* message, const std::string& path,
                      const std::string& text) {
  const auto dot = path.find('.');
  const auto* field = message->GetDescriptor()->FindFieldByName(
      dot == std::string::npos ? path : path.substr(0, dot));
  const auto* reflection = message->GetReflection();
  if (dot != std::string::npos) {
    return SetField(reflection->MutableMessage(message, field), path.substr(dot + 1), text);
  }
  const std::string flag = FlagName(path);
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool value = false;
      if (!absl::SimpleAtob(text, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": \"", text, "\" is not true or false"));
      }
      reflection->SetBool(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", text, "\" is not an integer"));
      }
      reflection->SetInt64(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", text, "\" is not an integer"));
      }
      reflection->SetInt32(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double value = 0;
      if (!absl::SimpleAtod(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", text, "\" is not a number"));
      }
      reflection->SetDouble(message, field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(message, field, text);
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(flag, ": unsupported field type"));
  }
  return absl::OkStatus();
}

// The App the flags (and -f) describe, and the mask of what they set.
absl::Status BuildApp(const AppFlags& flags, v1::App* app, google::protobuf::FieldMask* mask) {
  if (!flags.file.empty()) {
    std::string text;
    if (flags.file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(flags.file);
      if (!in) return absl::InvalidArgumentError(absl::StrCat("-f: cannot read ", flags.file));
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
    google::protobuf::util::JsonParseOptions options;
    auto status = google::protobuf::util::JsonStringToMessage(text, app, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("-f ", flags.file, ": not an App in JSON: ", status.message().ToString()));
    }
    std::vector<const FieldDescriptor*> fields;
    app->GetReflection()->ListFields(*app, &fields);
    for (const auto* field : fields) {
      if (field->name() != "name" && field->name() != "id") mask->add_paths(field->name());
    }
  }
  for (const auto& [path, option] : flags.options) {
    if (option->count() == 0) continue;
    if (auto status = SetField(app, path, flags.values.at(path)); !status.ok()) return status;
    mask->add_paths(path);
  }
  if (flags.allowed_origins_option->count() > 0) {
    app->clear_allowed_origins();
    for (const auto& origin : flags.allowed_origins) {
      if (!origin.empty()) app->add_allowed_origins(origin);
    }
    mask->add_paths("allowed_origins");
  }
  if (flags.webhooks_option->count() > 0) {
    auto status =
        google::protobuf::util::JsonStringToMessage(flags.webhooks, app->mutable_webhooks());
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--webhooks: not a JSON array: ", status.message().ToString()));
    }
    mask->add_paths("webhooks");
  }
  return absl::OkStatus();
}

std::string Optional(bool has, int64_t value) { return has ? std::to_string(value) : "-"; }
std::string OptionalBool(bool has, bool value) { return has ? output::FormatBool(value) : "-"; }

output::Table AppsTable(const std::vector<const v1::App*>& apps, bool wide, bool with_secret) {
  std::vector<std::string> headers = {"ID", "KEY"};
  if (with_secret) headers.push_back("SECRET");
  for (const char* h : {"ENABLED", "MAX-CONNECTIONS", "CLIENT-EVENTS", "USER-AUTH"}) {
    headers.push_back(h);
  }
  if (wide) {
    for (const char* h : {"WATCHLIST", "CLIENT-EV/S", "BACKEND-EV/S", "READS/S", "PRESENCE-MEMBERS",
                          "WEBHOOKS", "ORIGINS"}) {
      headers.push_back(h);
    }
  }
  output::Table table(headers);
  for (const v1::App* app : apps) {
    std::vector<std::string> row = {app->id(), app->key()};
    if (with_secret) row.push_back(app->secret());
    row.push_back(OptionalBool(app->has_enabled(), app->enabled()));
    row.push_back(Optional(app->has_max_connections(), app->max_connections()));
    row.push_back(OptionalBool(app->has_enable_client_messages(), app->enable_client_messages()));
    row.push_back(
        OptionalBool(app->has_enable_user_authentication(), app->enable_user_authentication()));
    if (wide) {
      row.push_back(
          OptionalBool(app->has_enable_watchlist_events(), app->enable_watchlist_events()));
      row.push_back(
          Optional(app->has_max_client_events_per_second(), app->max_client_events_per_second()));
      row.push_back(
          Optional(app->has_max_backend_events_per_second(), app->max_backend_events_per_second()));
      row.push_back(
          Optional(app->has_max_read_requests_per_second(), app->max_read_requests_per_second()));
      row.push_back(Optional(app->has_max_presence_members_per_channel(),
                             app->max_presence_members_per_channel()));
      row.push_back(std::to_string(app->webhooks().values_size()));
      std::string origins;
      for (const auto& origin : app->allowed_origins()) {
        absl::StrAppend(&origins, origins.empty() ? "" : ",", origin);
      }
      row.push_back(origins.empty() ? "*" : origins);
    }
    table.AddRow(std::move(row));
  }
  return table;
}

int PrintApp(CommandEnv& env, const v1::App& app, bool with_secret) {
  return env.Print(app, [&](bool wide) { return AppsTable({&app}, wide, with_secret); });
}

// Runs `call` with a fresh stub and context; prints failures.
template <typename Call>
int WithStub(CommandEnv& env, Call&& call) {
  auto connection = env.Connect();
  if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
  v1::Apps::Stub stub((*connection)->channel());
  return call(**connection, stub);
}

CLI::App* AddIdCommand(CLI::App* apps, const char* name, const char* description, std::string& id) {
  CLI::App* command = apps->add_subcommand(name, description);
  command->add_option("ID", id, "app id (or apps/ID)")->required();
  return command;
}

}  // namespace

void AddAppsCommand(CLI::App& root, Commands& commands) {
  CLI::App* apps = root.add_subcommand("apps", "manage apps (tenants): keys, secrets, limits");
  apps->alias("app");
  SetExamples(apps, {"sockudoctl apps list", "sockudoctl apps create chat --max-connections 1000",
                     "sockudoctl apps get chat -o yaml"});

  // list
  struct ListState {
    int page_size = 0;
  };
  auto list_state = std::make_shared<ListState>();
  CLI::App* list = apps->add_subcommand("list", "list apps");
  list->alias("ls");
  list->add_option("--page-size", list_state->page_size, "apps per request (every page is fetched)")
      ->check(CLI::Range(1, 1000));
  SetExamples(list, {"sockudoctl apps list", "sockudoctl apps list -o wide",
                     "sockudoctl apps list -o json | jq -r '.apps[].id'"});
  commands.Bind(list, [list_state](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::ListAppsResponse all;
      v1::ListAppsRequest request;
      request.set_page_size(list_state->page_size > 0 ? list_state->page_size : 1000);
      grpc::Status status = client::FetchAllPages<v1::ListAppsResponse>(
          connection, request,
          [&](auto* context, const auto& r, auto* out) { return stub.ListApps(context, r, out); },
          [&](v1::ListAppsResponse& page, bool) {
            for (auto& app : *page.mutable_apps()) *all.add_apps() = std::move(app);
            all.set_total_size(page.total_size());
          });
      if (!status.ok()) return connection.Fail(status);
      return env.Print(all, [&](bool wide) {
        std::vector<const v1::App*> rows;
        for (const auto& app : all.apps()) rows.push_back(&app);
        return AppsTable(rows, wide, false);
      });
    });
  });

  // get
  auto get_id = std::make_shared<std::string>();
  CLI::App* get = AddIdCommand(apps, "get", "show one app", *get_id);
  SetExamples(get, {"sockudoctl apps get chat", "sockudoctl apps get chat -o json | jq .key"});
  commands.Bind(get, [get_id](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::GetAppRequest request;
      request.set_name(AppName(*get_id));
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.GetApp(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return PrintApp(env, app, false);
    });
  });

  // create
  struct CreateState {
    std::string id;
    AppFlags flags;
  };
  auto create_state = std::make_shared<CreateState>();
  CLI::App* create = apps->add_subcommand(
      "create", "create an app; id, key and secret are generated unless given");
  create->add_option("ID", create_state->id, "app id (default: generated)");
  AddAppFlags(create, create_state->flags, /*create=*/true);
  SetExamples(create, {"sockudoctl apps create chat",
                       "sockudoctl apps create chat --key chat-key --max-connections 500 "
                       "--enable-client-messages",
                       "sockudoctl apps create -f app.json -o json"});
  commands.Bind(create, [create_state](CommandEnv& env) {
    v1::CreateAppRequest request;
    google::protobuf::FieldMask unused;
    if (auto st = BuildApp(create_state->flags, request.mutable_app(), &unused); !st.ok()) {
      return env.UsageError(std::string(st.message()));
    }
    if (!create_state->id.empty()) {
      const std::string& id = create_state->id;
      request.set_app_id(id.rfind("apps/", 0) == 0 ? id.substr(5) : id);
    }
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.CreateApp(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return PrintApp(env, app, true);
    });
  });

  // update
  struct UpdateState {
    std::string id;
    AppFlags flags;
  };
  auto update_state = std::make_shared<UpdateState>();
  CLI::App* update = apps->add_subcommand("update", "change fields of an app (only those given)");
  update->add_option("ID", update_state->id, "app id (or apps/ID)")->required();
  AddAppFlags(update, update_state->flags, /*create=*/false);
  SetExamples(
      update,
      {"sockudoctl apps update chat --max-connections 2000",
       "sockudoctl apps update chat --enable-client-messages=false",
       "sockudoctl apps update chat --allowed-origins https://a.example,https://b.example"});
  commands.Bind(update, [update_state](CommandEnv& env) {
    v1::UpdateAppRequest request;
    if (auto st =
            BuildApp(update_state->flags, request.mutable_app(), request.mutable_update_mask());
        !st.ok()) {
      return env.UsageError(std::string(st.message()));
    }
    if (request.update_mask().paths_size() == 0) {
      return env.UsageError("nothing to change: give at least one field flag (or -f)");
    }
    request.mutable_app()->set_name(AppName(update_state->id));
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.UpdateApp(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return PrintApp(env, app, false);
    });
  });

  // delete, rotate-secret, enable, disable: one id each.
  auto delete_id = std::make_shared<std::string>();
  CLI::App* del =
      AddIdCommand(apps, "delete", "delete an app; its sockets close with 4001", *delete_id);
  del->alias("rm");
  SetExamples(del, {"sockudoctl apps delete chat"});
  commands.Bind(del, [delete_id](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::DeleteAppRequest request;
      request.set_name(AppName(*delete_id));
      google::protobuf::Empty empty;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.DeleteApp(&context, request, &empty);
      if (!status.ok()) return connection.Fail(status);
      return env.PrintDone(empty, absl::StrCat("app \"", request.name().substr(5), "\" deleted"));
    });
  });

  auto rotate_id = std::make_shared<std::string>();
  CLI::App* rotate =
      AddIdCommand(apps, "rotate-secret",
                   "generate a new secret (the old one stops working at once)", *rotate_id);
  SetExamples(rotate, {"sockudoctl apps rotate-secret chat",
                       "sockudoctl apps rotate-secret chat -o json | jq -r .secret"});
  commands.Bind(rotate, [rotate_id](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::RotateAppSecretRequest request;
      request.set_name(AppName(*rotate_id));
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.RotateAppSecret(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return PrintApp(env, app, true);
    });
  });

  auto enable_id = std::make_shared<std::string>();
  CLI::App* enable =
      AddIdCommand(apps, "enable", "admit connections and API calls again", *enable_id);
  SetExamples(enable, {"sockudoctl apps enable chat"});
  commands.Bind(enable, [enable_id](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::EnableAppRequest request;
      request.set_name(AppName(*enable_id));
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.EnableApp(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return env.PrintDone(app, absl::StrCat("app \"", app.id(), "\" enabled"));
    });
  });

  auto disable_id = std::make_shared<std::string>();
  CLI::App* disable =
      AddIdCommand(apps, "disable",
                   "refuse the app: its sockets close with 4003, API calls get 403", *disable_id);
  SetExamples(disable, {"sockudoctl apps disable chat"});
  commands.Bind(disable, [disable_id](CommandEnv& env) {
    return WithStub(env, [&](client::Connection& connection, v1::Apps::Stub& stub) {
      v1::DisableAppRequest request;
      request.set_name(AppName(*disable_id));
      v1::App app;
      grpc::ClientContext context;
      connection.Prepare(&context);
      grpc::Status status = stub.DisableApp(&context, request, &app);
      if (!status.ok()) return connection.Fail(status);
      return env.PrintDone(app, absl::StrCat("app \"", app.id(), "\" disabled"));
    });
  });
}

}  // namespace sockudo::cli
