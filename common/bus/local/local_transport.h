// File: local_transport.h
// The `local` driver: a Transport on a LocalHub. It has a thread of its own like every driver,
// so an embedded observer's requests reach the node through the same code path as on a real
// bus. A node alone on it never publishes broadcasts (the adapter knows it has no peers), so the
// default single-node setup sends no bus message at all. Replies are addressed by reply inbox.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

#include "common/bus/local/local_hub.h"
#include "common/bus/transport.h"

namespace sockudo::bus::local {

class LocalTransport : public Transport {
 public:
  explicit LocalTransport(LocalHub& hub) : hub_(hub) {}
  ~LocalTransport() override { Stop(); }

  // Transport
  absl::Status Start(const Identity& identity, Listener* listener) override;
  void Stop() override;
  void Publish(Channel channel, std::string payload, Completion done) override;
  void PublishToNode(std::string_view node_id, std::string payload, Completion done) override;
  void PublishRequest(std::string_view request_id, std::string payload, Completion done) override;
  void Reply(std::string_view address, std::string payload, Completion done) override;
  std::string ReplyTo() const override { return endpoint_.identity.reply_hex; }
  void CountNodes(std::function<void(std::optional<size_t>)> done) override;
  bool Healthy() const override { return true; }
  void Post(std::function<void()> fn) override;
  std::string_view name() const override { return "local"; }

 private:
  void Done(Completion done);

  LocalHub& hub_;
  LocalHub::Endpoint endpoint_;
  Listener* listener_ = nullptr;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  bool joined_ = false;
};

}  // namespace sockudo::bus::local
