#include "common/bus/redis/redis_bus_transport.h"

#include <utility>

#include "common/bus/redis/redis_bus_driver.h"

namespace sockudo::bus::redis {

RedisBusTransport::RedisBusTransport(std::unique_ptr<RedisBusDriver> driver)
    : driver_(std::move(driver)) {}

RedisBusTransport::~RedisBusTransport() { Stop(); }

absl::Status RedisBusTransport::Start(const Identity& identity, Listener* listener) {
  return driver_->Start(identity, listener);
}

void RedisBusTransport::Stop() { driver_->Stop(); }

void RedisBusTransport::Publish(Channel channel, std::string payload, Completion done) {
  driver_->Publish(channel, std::move(payload), std::move(done));
}

void RedisBusTransport::PublishToNode(std::string_view node_id, std::string payload,
                                      Completion done) {
  driver_->PublishToNode(node_id, std::move(payload), std::move(done));
}

// Redis drivers send requests on kRequests; the payload names ReplyTo().
void RedisBusTransport::PublishRequest(std::string_view /*request_id*/, std::string payload,
                                       Completion done) {
  driver_->PublishRequest(std::move(payload), std::move(done));
}

void RedisBusTransport::Reply(std::string_view address, std::string payload, Completion done) {
  driver_->Reply(address, std::move(payload), std::move(done));
}

std::string RedisBusTransport::ReplyTo() const { return driver_->ReplyTo(); }

void RedisBusTransport::CountNodes(std::function<void(std::optional<size_t>)> done) {
  driver_->CountNodes(std::move(done));
}

bool RedisBusTransport::Healthy() const { return driver_->Healthy(); }

void RedisBusTransport::Post(std::function<void()> fn) { driver_->Post(std::move(fn)); }

uint64_t RedisBusTransport::dropped_messages() const { return driver_->dropped(); }
uint64_t RedisBusTransport::reconnections() const { return driver_->reconnections(); }
size_t RedisBusTransport::queue_depth() const { return driver_->depth(); }
uint64_t RedisBusTransport::failed_publishes() const { return driver_->failed(); }
std::string RedisBusTransport::endpoint() const { return driver_->endpoint(); }

}  // namespace sockudo::bus::redis
