#include "common/bus/local/local_transport.h"

#include <boost/asio/post.hpp>

namespace sockudo::bus::local {

namespace net = boost::asio;

absl::Status LocalTransport::Start(const Identity& identity, Listener* listener) {
  listener_ = listener;
  endpoint_.identity = identity;
  endpoint_.deliver = [this](Incoming message) {
    net::post(io_, [this, message = std::move(message)]() mutable {
      listener_->OnMessage(std::move(message));
    });
  };
  guard_.emplace(net::make_work_guard(io_));
  thread_ = std::thread([this] { io_.run(); });
  hub_.Join(&endpoint_);
  joined_ = true;
  return absl::OkStatus();
}

void LocalTransport::Stop() {
  if (joined_) hub_.Leave(&endpoint_);
  joined_ = false;
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void LocalTransport::Done(Completion done) {
  if (done) net::post(io_, [done = std::move(done)] { done(absl::OkStatus()); });
}

void LocalTransport::Publish(Channel channel, std::string payload, Completion done) {
  hub_.Send(&endpoint_, channel, payload, "");
  Done(std::move(done));
}

void LocalTransport::PublishToNode(std::string_view node_id, std::string payload, Completion done) {
  hub_.Send(&endpoint_, Channel::kNodeInbox, payload, "", std::string(node_id));
  Done(std::move(done));
}

void LocalTransport::PublishRequest(std::string_view, std::string payload, Completion done) {
  // The payload names ReplyTo() (this endpoint's reply inbox) in `reply_to`, as on Redis.
  hub_.Send(&endpoint_, Channel::kRequests, payload, "");
  Done(std::move(done));
}

void LocalTransport::Reply(std::string_view address, std::string payload, Completion done) {
  hub_.Send(&endpoint_, Channel::kReplyInbox, payload, "", std::string(address));
  Done(std::move(done));
}

void LocalTransport::CountNodes(std::function<void(std::optional<size_t>)> done) {
  const size_t nodes = hub_.Nodes();
  net::post(io_, [done = std::move(done), nodes] { done(nodes); });
}

void LocalTransport::Post(std::function<void()> fn) { net::post(io_, std::move(fn)); }

}  // namespace sockudo::bus::local
