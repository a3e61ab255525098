// sockudoctl users terminate|connections: the Users service (signed-in users, cluster-wide).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "sockudo/controlplane/v1/users.grpc.pb.h"

namespace sockudo::cli {
namespace {

namespace v1 = controlplane::v1;

struct UserArgs {
  std::string user;
  bool reconnect = false;
};

std::string Answered(const v1::ClusterAnswer& answer) {
  return absl::StrCat(answer.responses_received(), "/", answer.expected_responses());
}

}  // namespace

void AddUsersCommand(CLI::App& root, Commands& commands) {
  CLI::App* users = root.add_subcommand(
      "users", "users signed in (pusher:signin) on the connections of an app, cluster-wide");
  users->alias("user");
  SetExamples(users, {"sockudoctl users connections alice --app chat",
                      "sockudoctl users terminate alice --app chat"});

  auto terminate_args = std::make_shared<UserArgs>();
  CLI::App* terminate = users->add_subcommand(
      "terminate", "close every connection of a user on every node (close code 4009)");
  terminate->add_option("USER", terminate_args->user, "user id (as signed in)")->required();
  terminate->add_flag("--reconnect", terminate_args->reconnect,
                      "close with 4200 so the clients reconnect at once");
  SetExamples(terminate, {"sockudoctl users terminate alice --app chat",
                          "sockudoctl users terminate alice --app chat --reconnect -o json"});
  commands.Bind(terminate, [terminate_args](CommandEnv& env) {
    auto app = env.ResolveApp();
    if (!app.ok()) return env.UsageError(std::string(app.status().message()));
    auto connection = env.Connect();
    if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
    v1::Users::Stub stub((*connection)->channel());
    v1::TerminateUserConnectionsRequest request;
    request.set_name(absl::StrCat(AppName(*app), "/users/", terminate_args->user));
    request.set_reconnect(terminate_args->reconnect);
    v1::TerminateUserConnectionsResponse response;
    grpc::ClientContext context;
    (*connection)->Prepare(&context);
    grpc::Status status = stub.TerminateUserConnections(&context, request, &response);
    if (!status.ok()) return (*connection)->Fail(status);
    env.WarnIfPartial(response.answer());
    return env.PrintDone(response, absl::StrCat("user \"", terminate_args->user,
                                                "\" terminated: ", response.connections_before(),
                                                " connection(s) closed"));
  });

  auto count_args = std::make_shared<UserArgs>();
  CLI::App* connections =
      users->add_subcommand("connections", "count the connections of a user, cluster-wide");
  connections->add_option("USER", count_args->user, "user id (as signed in)")->required();
  SetExamples(connections,
              {"sockudoctl users connections alice --app chat",
               "sockudoctl users connections alice --app chat -o json | jq .connections"});
  commands.Bind(connections, [count_args](CommandEnv& env) {
    auto app = env.ResolveApp();
    if (!app.ok()) return env.UsageError(std::string(app.status().message()));
    auto connection = env.Connect();
    if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
    v1::Users::Stub stub((*connection)->channel());
    v1::CountUserConnectionsRequest request;
    request.set_name(absl::StrCat(AppName(*app), "/users/", count_args->user));
    v1::CountUserConnectionsResponse response;
    grpc::ClientContext context;
    (*connection)->Prepare(&context);
    grpc::Status status = stub.CountUserConnections(&context, request, &response);
    if (!status.ok()) return (*connection)->Fail(status);
    env.WarnIfPartial(response.answer());
    return env.Print(response, [&](bool wide) {
      output::Table table({"USER", "CONNECTIONS", "NODES-ANSWERED"});
      table.AddRow(
          {count_args->user, std::to_string(response.connections()), Answered(response.answer())});
      return table;
    });
  });
}

}  // namespace sockudo::cli
