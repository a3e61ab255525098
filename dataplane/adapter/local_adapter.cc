#include "dataplane/adapter/local_adapter.h"

#include "dataplane/connection/connection.h"
#include "dataplane/protocol/channel_name.h"

namespace sockudo::dataplane::adapter {
namespace {

void DeliverTo(const channels::ConnectionIndex::List* list, const protocol::SharedFrame& frame,
               const std::string& except_socket_id) {
  if (list == nullptr || list->empty()) return;
  int64_t delivered = 0;
  for (connection::Connection* c : *list) {
    if (!except_socket_id.empty() && c->socket_id() == except_socket_id) continue;
    delivered += c->Deliver(frame);
  }
  // Every connection in one list belongs to the same app: count once for the whole fan-out.
  connection::Connection::CountDelivered(list->front()->counters(), delivered,
                                         static_cast<int64_t>(frame->size()));
}

}  // namespace

void LocalAdapter::Broadcast(const std::string& app_id, const std::string& channel,
                             protocol::SharedFrame frame, const std::string& except_socket_id) {
  // Nobody subscribed on this node: do not wake the workers. (A subscription is counted before
  // its success frame is sent, so a subscriber that saw success is never skipped.)
  if (channels_.Count(app_id, channel) == 0) return;
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, channel, frame, except_socket_id](node::WorkerState& w) {
      DeliverTo(w.channels.Find(app_id, channel), frame, except_socket_id);
    });
  }
}

void LocalAdapter::SendToUser(const std::string& app_id, const std::string& user_id,
                              protocol::SharedFrame frame, const std::string& except_socket_id) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, user_id, frame, except_socket_id](node::WorkerState& w) {
      DeliverTo(w.users.Find(app_id, user_id), frame, except_socket_id);
    });
  }
}

void LocalAdapter::DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
                                  const std::string& message) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, user_id, code, message](node::WorkerState& w) {
      const auto* list = w.users.Find(app_id, user_id);
      if (list == nullptr) return;
      // Closing removes the connection from the list: iterate over a copy.
      const channels::ConnectionIndex::List targets = *list;
      for (connection::Connection* c : targets) c->CloseWithError(code, message);
    });
  }
}

void LocalAdapter::GetChannel(const std::string& app_id, const std::string& channel,
                              std::function<void(ChannelCounts)> done) {
  ChannelCounts counts;
  counts.subscription_count = channels_.Count(app_id, channel);
  if (protocol::ClassifyChannel(channel).IsPresence()) {
    counts.user_count = presence_.MemberCount(app_id, channel);
  }
  done(counts);
}

void LocalAdapter::GetChannels(
    const std::string& app_id, const std::string& prefix,
    std::function<void(std::vector<std::pair<std::string, ChannelCounts>>)> done) {
  std::vector<std::pair<std::string, ChannelCounts>> out;
  for (auto& [name, count] : channels_.List(app_id, prefix)) {
    ChannelCounts counts{count, 0};
    if (protocol::ClassifyChannel(name).IsPresence())
      counts.user_count = presence_.MemberCount(app_id, name);
    out.emplace_back(std::move(name), counts);
  }
  done(std::move(out));
}

void LocalAdapter::GetPresenceMembers(const std::string& app_id, const std::string& channel,
                                      std::function<void(std::vector<std::string>)> done) {
  done(presence_.Members(app_id, channel));
}

void LocalAdapter::GetAppConnectionCount(const std::string& app_id,
                                         std::function<void(int64_t)> done) {
  done(connections_.AppConnections(app_id));
}

}  // namespace sockudo::dataplane::adapter
