#include "common/bus/request_router.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace sockudo::bus {

std::chrono::milliseconds RequestTimeout(RequestType type, size_t peers,
                                         std::chrono::milliseconds base) {
  if (!IsFastRequest(type)) return base;
  const auto scaled = std::chrono::milliseconds(50 * static_cast<int64_t>(peers + 1));
  const auto low = std::min(std::chrono::milliseconds(200), base);
  return std::clamp(scaled, low, base);
}

std::chrono::milliseconds RequestBaseTimeout(const config::Config& config) {
  const std::string& driver = config.adapter.driver;
  if (driver == "redis") return std::chrono::milliseconds(config.adapter.redis.requests_timeout);
  if (driver == "redis-cluster") {
    return std::chrono::milliseconds(config.adapter.cluster.request_timeout_ms);
  }
  if (driver == "nats") return std::chrono::milliseconds(config.adapter.nats.request_timeout_ms);
  return std::chrono::milliseconds(5000);
}

RequestRouter::RequestRouter(boost::asio::io_context& io, std::string own_node_id,
                             std::chrono::milliseconds reap_after)
    : io_(io), own_node_id_(std::move(own_node_id)), reap_after_(reap_after), reaper_(io) {
  ScheduleReaper();
}

RequestRouter::~RequestRouter() {
  reaper_.cancel();
  for (auto& [id, p] : pending_) p.timer->cancel();
}

void RequestRouter::Expect(const std::string& id, size_t expected,
                           std::chrono::milliseconds timeout, EarlyReturn early, Done done) {
  if (pending_.count(id)) {
    // A repeated id: the first registration stands (its deadline untouched); this one finishes
    // at once, incomplete, so that its callback still runs exactly once.
    if (done) {
      boost::asio::post(io_, [done = std::move(done), expected] {
        done(Result{{}, expected, false});
      });
    }
    return;
  }
  Pending p;
  p.expected = expected;
  p.early = std::move(early);
  p.done = std::move(done);
  p.started = std::chrono::steady_clock::now();
  p.timer = std::make_unique<boost::asio::steady_timer>(io_, timeout);
  p.timer->async_wait([this, id](boost::system::error_code ec) {
    if (!ec) Finish(id, false);
  });
  pending_.emplace(id, std::move(p));
  if (expected == 0) {
    boost::asio::post(io_, [this, id] { Finish(id, true); });
  }
}

void RequestRouter::OnResponse(ResponseBody response) {
  if (response.node_id == own_node_id_) return;
  auto it = pending_.find(response.request_id);
  if (it == pending_.end()) return;  // late, or not ours
  Pending& p = it->second;
  if (!p.responders.insert(response.node_id).second) return;  // a responder answers once
  const bool settles = p.early && p.early(response);
  p.responses.push_back(std::move(response));
  if (settles || p.responders.size() >= p.expected) Finish(it->first, true);
}

void RequestRouter::Fail(const std::string& id) {
  if (pending_.count(id)) Finish(id, false);
}

void RequestRouter::CancelAll() {
  std::vector<std::string> ids;
  for (const auto& [id, p] : pending_) ids.push_back(id);
  for (const std::string& id : ids) Finish(id, false);
}

void RequestRouter::Finish(const std::string& id, bool complete) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  p.timer->cancel();
  (complete ? resolved_ : uncomplete_)++;
  Result result{std::move(p.responses), p.expected, complete};
  if (p.done) p.done(std::move(result));
}

void RequestRouter::ScheduleReaper() {
  // Safety net: every second, drop what is older than the full timeout plus a margin, should a
  // deadline ever have been lost.
  reaper_.expires_after(std::chrono::seconds(1));
  reaper_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::string> stale;
    for (const auto& [id, p] : pending_) {
      if (now - p.started > reap_after_ + std::chrono::seconds(1)) stale.push_back(id);
    }
    for (const std::string& id : stale) Finish(id, false);
    ScheduleReaper();
  });
}

}  // namespace sockudo::bus
