// File: redis_bus_transport.h
// The Transport face both Redis bus drivers share: every Transport call goes to the
// RedisBusDriver a deployment supplies (RedisTransport: standalone / Sentinel;
// RedisClusterTransport: Redis Cluster), plus the transport counters of /metrics. A derived
// transport adds its name() and what is its own.
//
// Threads: as RedisBusDriver (Start/Stop from the owner's thread, the rest from any thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/bus/transport.h"

namespace sockudo::bus::redis {

class RedisBusDriver;

class RedisBusTransport : public Transport {
 public:
  ~RedisBusTransport() override;  // Stop()
  RedisBusTransport(const RedisBusTransport&) = delete;
  RedisBusTransport& operator=(const RedisBusTransport&) = delete;

  // Transport:
  absl::Status Start(const Identity& identity, Listener* listener) override;
  void Stop() override;
  void Publish(Channel channel, std::string payload, Completion done) override;
  void PublishToNode(std::string_view node_id, std::string payload, Completion done) override;
  void PublishRequest(std::string_view request_id, std::string payload, Completion done) override;
  // An empty address means "no reply_to": the response goes to {prefix}:#responses.
  void Reply(std::string_view address, std::string payload, Completion done) override;
  std::string ReplyTo() const override;
  void CountNodes(std::function<void(std::optional<size_t>)> done) override;
  bool Healthy() const override;
  void Post(std::function<void()> fn) override;
  Counters counters() const override {
    return {dropped_messages() + failed_publishes(), reconnections(), queue_depth()};
  }

  // Broadcasts dropped because the pipeline was full (horizontal_transport_messages_dropped_total).
  uint64_t dropped_messages() const;
  // Successful subscriber reconnections (horizontal_transport_reconnections_total).
  uint64_t reconnections() const;
  // Broadcasts queued or in flight (horizontal_transport_queue_depth).
  size_t queue_depth() const;
  // Publishes of any kind that failed after their retries.
  uint64_t failed_publishes() const;
  // Where the bus is, for logs (never credentials).
  std::string endpoint() const;

 protected:
  explicit RedisBusTransport(std::unique_ptr<RedisBusDriver> driver);
  RedisBusDriver& driver() const { return *driver_; }

 private:
  std::unique_ptr<RedisBusDriver> driver_;
};

}  // namespace sockudo::bus::redis
