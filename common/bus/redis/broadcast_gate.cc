#include "common/bus/redis/broadcast_gate.h"

#include <utility>

namespace sockudo::bus::redis {

BroadcastGate::BroadcastGate(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                             Count count)
    : log_(std::move(log)), count_(std::move(count)), limit_timer_(io), poll_timer_(io) {}

void BroadcastGate::Pass(std::function<void()> publish) {
  if (shut_) return;
  if (!closed_ && waiting_.empty()) {
    publish();
    return;
  }
  waiting_.push_back(std::move(publish));
  if (polling_) return;
  polling_ = true;
  ++round_;
  // The limit holds even when a count never comes back (a node that does not answer).
  limit_timer_.expires_after(kLimit);
  limit_timer_.async_wait([this, round = round_](boost::system::error_code ec) {
    if (ec || shut_ || !polling_ || round != round_) return;
    log_->info("broadcasts resume after {} ms without the {} subscribers of before", kLimit.count(),
               expected_);
    Open();
  });
  Poll(round_);
}

void BroadcastGate::Poll(uint64_t round) {
  count_([this, round](std::optional<size_t> n) {
    if (shut_ || !polling_ || round != round_) return;
    if (n.has_value() && *n >= expected_) {
      Open();
      return;
    }
    poll_timer_.expires_after(kPoll);
    poll_timer_.async_wait([this, round](boost::system::error_code ec) {
      if (ec || shut_ || !polling_ || round != round_) return;
      Poll(round);
    });
  });
}

void BroadcastGate::Open() {
  closed_ = false;
  polling_ = false;
  ++round_;
  limit_timer_.cancel();
  poll_timer_.cancel();
  std::vector<std::function<void()>> waiting = std::exchange(waiting_, {});
  for (auto& publish : waiting) publish();
}

void BroadcastGate::Shutdown() {
  shut_ = true;
  limit_timer_.cancel();
  poll_timer_.cancel();
  waiting_.clear();
}

}  // namespace sockudo::bus::redis
