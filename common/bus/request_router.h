// File: request_router.h
// The requester's side of a cluster request: pending requests by correlation id, each waiting for
// `expected` distinct responders, an early-return condition, or its deadline, then handing every
// response it got to its callback with `complete` saying whether all came. Late and duplicate
// responses and a participant's own responses are dropped; a reaper removes what a lost timer would
// leave behind. Used by data nodes and the control plane alike.
//
// Everything runs on the io_context given at construction (the owner's cluster thread).
//
//   router.Expect(id, peers, RequestTimeout(type, peers, base), nullptr, [](Result r) {...});
//   transport.PublishRequest(id, EncodeRequest(body), [&](Status s) { if (!s.ok()) router.Fail(id);
//   });
//   ... router.OnResponse(DecodeResponse(payload));
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bus/envelope.h"
#include "common/config/config.h"

namespace sockudo::bus {

// The deadline of a request: the fast class waits
// clamp(50 ms x (peers + 1), min(200 ms, base), base), every other type `base`.
std::chrono::milliseconds RequestTimeout(RequestType type, size_t peers,
                                         std::chrono::milliseconds base);
// The base request timeout of the configured driver: the driver's requests_timeout /
// request_timeout_ms, 5 s for `local`.
std::chrono::milliseconds RequestBaseTimeout(const config::Config& config);

class RequestRouter {
 public:
  struct Result {
    std::vector<ResponseBody> responses;  // one per responder, in arrival order
    size_t expected = 0;
    bool complete = true;  // every expected responder answered (or the early return held)
  };
  using Done = std::function<void(Result)>;
  // True when this response alone settles the request (SocketExistsInChannel: exists).
  using EarlyReturn = std::function<bool(const ResponseBody&)>;

  RequestRouter(boost::asio::io_context& io, std::string own_node_id,
                std::chrono::milliseconds reap_after);
  ~RequestRouter();

  // Registers request `id`; `done` runs once, on the io_context's thread, never inside this call.
  void Expect(const std::string& id, size_t expected, std::chrono::milliseconds timeout,
              EarlyReturn early, Done done);
  // A response from the bus. Unknown ids, own responses and repeats of a responder are dropped.
  void OnResponse(ResponseBody response);
  // The request could not be published: finish it now, incomplete.
  void Fail(const std::string& id);
  // Finishes every pending request, incomplete (shutdown).
  void CancelAll();

  size_t pending() const { return pending_.size(); }
  int64_t resolved() const { return resolved_; }
  int64_t uncomplete() const { return uncomplete_; }

 private:
  struct Pending {
    size_t expected = 0;
    std::set<std::string> responders;
    std::vector<ResponseBody> responses;
    EarlyReturn early;
    Done done;
    std::chrono::steady_clock::time_point started;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void Finish(const std::string& id, bool complete);
  void ScheduleReaper();

  boost::asio::io_context& io_;
  std::string own_node_id_;
  std::chrono::milliseconds reap_after_;
  std::unordered_map<std::string, Pending> pending_;
  boost::asio::steady_timer reaper_;
  int64_t resolved_ = 0;
  int64_t uncomplete_ = 0;
};

}  // namespace sockudo::bus
