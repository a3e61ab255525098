// sockudoctl publish CHANNEL EVENT DATA: the Events service.
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands/commands.h"
#include "sockudo/controlplane/v1/events.grpc.pb.h"

namespace sockudo::cli {

void AddPublishCommand(CLI::App& root, Commands& commands) {
  struct Args {
    std::string channels;
    std::string event;
    std::string data;
    std::string socket_id;
  };
  auto args = std::make_shared<Args>();
  CLI::App* publish = root.add_subcommand(
      "publish", "publish an event to channels of an app (like POST /apps/{id}/events)");
  publish->add_option("CHANNEL", args->channels, "channel, or several separated by commas")
      ->required();
  publish->add_option("EVENT", args->event, "event name")->required();
  publish->add_option("DATA", args->data, "event data, delivered verbatim (- reads stdin)")
      ->required();
  publish->add_option("--socket-id", args->socket_id, "do not deliver to this socket");
  SetExamples(publish, {"sockudoctl publish news headline '{\"title\":\"hi\"}' --app chat",
                        "sockudoctl publish news,sports score 3-1 --app chat",
                        "echo '{\"n\":1}' | sockudoctl publish news update - --app chat"});
  commands.Bind(publish, [args](CommandEnv& env) {
    auto app = env.ResolveApp();
    if (!app.ok()) return env.UsageError(std::string(app.status().message()));
    controlplane::v1::PublishEventRequest request;
    request.set_parent(AppName(*app));
    request.set_name(args->event);
    for (absl::string_view channel : absl::StrSplit(args->channels, ',', absl::SkipEmpty())) {
      request.add_channels(std::string(channel));
    }
    if (request.channels_size() == 0) return env.UsageError("CHANNEL: no channel given");
    if (args->data == "-") {
      std::string data((std::istreambuf_iterator<char>(std::cin)),
                       std::istreambuf_iterator<char>());
      while (!data.empty() && data.back() == '\n') data.pop_back();
      request.set_data(std::move(data));
    } else {
      request.set_data(args->data);
    }
    request.set_socket_id(args->socket_id);
    auto connection = env.Connect();
    if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
    controlplane::v1::Events::Stub stub((*connection)->channel());
    controlplane::v1::PublishEventResponse response;
    grpc::ClientContext context;
    (*connection)->Prepare(&context);
    grpc::Status status = stub.PublishEvent(&context, request, &response);
    if (!status.ok()) return (*connection)->Fail(status);
    return env.PrintDone(response, absl::StrCat("event \"", args->event, "\" published to ",
                                                response.channels(), " channel(s)"));
  });
}

}  // namespace sockudo::cli
