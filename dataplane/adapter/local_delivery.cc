#include "dataplane/adapter/local_delivery.h"

#include <memory>
#include <mutex>

#include "dataplane/connection/connection.h"

namespace sockudo::dataplane::adapter {
namespace {

void DeliverTo(const channels::ConnectionIndex::List* list, const protocol::SharedFrame& frame,
               const std::string& except_socket_id, const std::string* channel = nullptr) {
  if (list == nullptr || list->empty()) return;
  int64_t delivered = 0;
  for (connection::Connection* c : *list) {
    if (!except_socket_id.empty() && c->socket_id() == except_socket_id) continue;
    if (channel != nullptr) c->NoteChannelEvent(*channel);
    delivered += c->Deliver(frame);
  }
  // Every connection in one list belongs to the same app: count once for the whole fan-out.
  connection::Connection::CountDelivered(list->front()->counters(), delivered,
                                         static_cast<int64_t>(frame->size()));
}

}  // namespace

void LocalDelivery::ToChannel(const std::string& app_id, const std::string& channel,
                              const protocol::SharedFrame& frame,
                              const std::string& except_socket_id) {
  // Nobody subscribed or joining on this node: do not wake the workers. (A subscription is
  // counted before its success frame is sent, so a subscriber that saw success is never skipped;
  // a presence socket counts as joining from its subscribe on, so a member event sent before it
  // entered the channel still queues behind its entry.)
  if (!channels_.Reachable(app_id, channel)) return;
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, channel, frame, except_socket_id](node::WorkerState& w) {
      DeliverTo(w.channels.Find(app_id, channel), frame, except_socket_id, &channel);
    });
  }
}

void LocalDelivery::ToUser(const std::string& app_id, const std::string& user_id,
                           const protocol::SharedFrame& frame,
                           const std::string& except_socket_id) {
  if (users_.Sockets(app_id, user_id) == 0) return;
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, user_id, frame, except_socket_id](node::WorkerState& w) {
      DeliverTo(w.users.Find(app_id, user_id), frame, except_socket_id);
    });
  }
}

void LocalDelivery::DisconnectUser(const std::string& app_id, const std::string& user_id, int code,
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

void LocalDelivery::CloseWhere(const std::string& app_id, int code, const std::string& message,
                               std::function<bool(const connection::Connection&)> which) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [app_id, code, message, which](node::WorkerState& w) {
      std::vector<connection::Connection*> targets;
      for (const auto& [serial, c] : w.connections) {
        if ((app_id.empty() || c->app().id == app_id) && (!which || which(*c))) {
          targets.push_back(c);
        }
      }
      for (connection::Connection* c : targets) c->CloseWithError(code, message);
    });
  }
}

void LocalDelivery::SocketIds(const std::string& app_id, const std::string& channel,
                              std::function<void(std::vector<std::string>)> done) {
  struct Gathered {
    std::mutex mu;
    std::vector<std::string> ids;
    size_t remaining;
    std::function<void(std::vector<std::string>)> done;
  };
  auto g = std::make_shared<Gathered>();
  g->remaining = workers_.size();
  g->done = std::move(done);
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_.Post(i, [g, app_id, channel](node::WorkerState& w) {
      std::vector<std::string> mine;
      if (channel.empty()) {
        for (const auto& [serial, c] : w.connections) {
          if (c->app().id == app_id) mine.push_back(c->socket_id());
        }
      } else if (const auto* list = w.channels.Find(app_id, channel)) {
        for (const connection::Connection* c : *list) mine.push_back(c->socket_id());
      }
      bool last;
      {
        std::lock_guard lock(g->mu);
        g->ids.insert(g->ids.end(), mine.begin(), mine.end());
        last = --g->remaining == 0;
      }
      if (last) g->done(std::move(g->ids));
    });
  }
}

}  // namespace sockudo::dataplane::adapter
