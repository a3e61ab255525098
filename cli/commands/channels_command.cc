// sockudoctl channels list|get|members: the Channels service (occupied channels, cluster-wide).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/client/all_pages.h"
#include "cli/commands/commands.h"
#include "google/protobuf/util/json_util.h"
#include "sockudo/controlplane/v1/channels.grpc.pb.h"

namespace sockudo::cli {
namespace {

namespace v1 = controlplane::v1;

output::Table ChannelsTable(const std::vector<const v1::Channel*>& channels, bool wide) {
  std::vector<std::string> headers = {"CHANNEL", "OCCUPIED", "SUBSCRIPTIONS", "USERS"};
  if (wide) headers.push_back("NAME");
  output::Table table(headers);
  for (const v1::Channel* channel : channels) {
    std::vector<std::string> row = {
        channel->channel(), output::FormatBool(channel->occupied()),
        std::to_string(channel->subscription_count()),
        channel->has_user_count() ? std::to_string(channel->user_count()) : "-"};
    if (wide) row.push_back(channel->name());
    table.AddRow(std::move(row));
  }
  return table;
}

std::string ChannelName(const std::string& app, const std::string& channel) {
  return absl::StrCat(AppName(app), "/channels/", channel);
}

// Resolves the app and connects; on failure sets `exit_code`.
struct Prepared {
  std::string app;
  std::unique_ptr<client::Connection> connection;
};

bool Prepare(CommandEnv& env, Prepared* out, int* exit_code) {
  auto app = env.ResolveApp();
  if (!app.ok()) {
    *exit_code = env.UsageError(std::string(app.status().message()));
    return false;
  }
  auto connection = env.Connect();
  if (!connection.ok()) {
    *exit_code = env.UsageError(std::string(connection.status().message()));
    return false;
  }
  out->app = *std::move(app);
  out->connection = *std::move(connection);
  return true;
}

}  // namespace

void AddChannelsCommand(CLI::App& root, Commands& commands) {
  CLI::App* channels =
      root.add_subcommand("channels", "occupied channels of an app, gathered from every node");
  channels->alias("channel");
  SetExamples(channels, {"sockudoctl channels list --app chat",
                         "sockudoctl channels get presence-room --app chat",
                         "sockudoctl channels members presence-room --app chat"});

  struct ListArgs {
    std::string prefix;
    int page_size = 0;
  };
  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = channels->add_subcommand("list", "list occupied channels");
  list->alias("ls");
  list->add_option("--prefix", list_args->prefix, "only channels starting with this");
  list->add_option("--page-size", list_args->page_size, "channels per request (all are fetched)")
      ->check(CLI::Range(1, 1000));
  SetExamples(list, {"sockudoctl channels list --app chat",
                     "sockudoctl channels list --app chat --prefix presence-",
                     "sockudoctl channels list --app chat -o json | jq -r '.channels[].channel'"});
  commands.Bind(list, [list_args](CommandEnv& env) {
    Prepared p;
    int code = 0;
    if (!Prepare(env, &p, &code)) return code;
    v1::Channels::Stub stub(p.connection->channel());
    v1::ListChannelsRequest request;
    request.set_parent(AppName(p.app));
    request.set_prefix(list_args->prefix);
    request.set_page_size(list_args->page_size > 0 ? list_args->page_size : 1000);
    v1::ListChannelsResponse all;
    grpc::Status status = client::FetchAllPages<v1::ListChannelsResponse>(
        *p.connection, request,
        [&](auto* context, const auto& r, auto* out) { return stub.ListChannels(context, r, out); },
        [&](v1::ListChannelsResponse& page, bool first) {
          for (auto& channel : *page.mutable_channels()) *all.add_channels() = std::move(channel);
          all.set_total_size(page.total_size());
          // The least complete page speaks for the whole list.
          if (first || !page.answer().complete()) *all.mutable_answer() = page.answer();
        });
    if (!status.ok()) return p.connection->Fail(status);
    env.WarnIfPartial(all.answer());
    return env.Print(all, [&](bool wide) {
      std::vector<const v1::Channel*> rows;
      for (const auto& channel : all.channels()) rows.push_back(&channel);
      return ChannelsTable(rows, wide);
    });
  });

  auto get_channel = std::make_shared<std::string>();
  CLI::App* get =
      channels->add_subcommand("get", "show one channel: occupied, subscriptions, users");
  get->add_option("CHANNEL", *get_channel, "channel name")->required();
  SetExamples(get, {"sockudoctl channels get presence-room --app chat -o yaml"});
  commands.Bind(get, [get_channel](CommandEnv& env) {
    Prepared p;
    int code = 0;
    if (!Prepare(env, &p, &code)) return code;
    v1::Channels::Stub stub(p.connection->channel());
    v1::GetChannelRequest request;
    request.set_name(ChannelName(p.app, *get_channel));
    v1::Channel channel;
    grpc::ClientContext context;
    p.connection->Prepare(&context);
    grpc::Status status = stub.GetChannel(&context, request, &channel);
    if (!status.ok()) return p.connection->Fail(status);
    env.WarnIfPartial(channel.answer());
    return env.Print(channel, [&](bool wide) { return ChannelsTable({&channel}, wide); });
  });

  auto members_channel = std::make_shared<std::string>();
  CLI::App* members =
      channels->add_subcommand("members", "members of a presence channel, cluster-wide");
  members->add_option("CHANNEL", *members_channel, "presence channel name")->required();
  SetExamples(
      members,
      {"sockudoctl channels members presence-room --app chat",
       "sockudoctl channels members presence-room --app chat -o json | jq -r '.members[].userId'"});
  commands.Bind(members, [members_channel](CommandEnv& env) {
    Prepared p;
    int code = 0;
    if (!Prepare(env, &p, &code)) return code;
    v1::Channels::Stub stub(p.connection->channel());
    v1::ListMembersRequest request;
    request.set_parent(ChannelName(p.app, *members_channel));
    request.set_page_size(1000);
    v1::ListMembersResponse response;  // every page
    grpc::Status status = client::FetchAllPages<v1::ListMembersResponse>(
        *p.connection, request,
        [&](auto* context, const auto& r, auto* out) { return stub.ListMembers(context, r, out); },
        [&](v1::ListMembersResponse& page, bool first) {
          for (auto& member : *page.mutable_members()) *response.add_members() = std::move(member);
          response.set_total_size(page.total_size());
          if (first || !page.answer().complete()) *response.mutable_answer() = page.answer();
        });
    if (!status.ok()) return p.connection->Fail(status);
    env.WarnIfPartial(response.answer());
    return env.Print(response, [&](bool wide) {
      output::Table table({"USER", "USER-INFO"});
      for (const auto& member : response.members()) {
        std::string info;
        if (member.has_user_info()) {
          google::protobuf::util::MessageToJsonString(member.user_info(), &info);
        }
        table.AddRow({member.user_id(), info.empty() ? "-" : info});
      }
      return table;
    });
  });
}

}  // namespace sockudo::cli
