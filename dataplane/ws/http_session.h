// File: http_session.h
// One HTTP connection on one worker: reads requests, hands a valid `/app/{key}` upgrade to a
// WsSession, and answers everything else through the Router, keep-alive included.
//
// Reading is strict and bounded, so a hostile client costs little and learns why it was refused:
//   - the first request's line and headers must arrive within 10 s of the accept, a keep-alive
//     request's within 60 s of the previous answer, a body within 60 s of its headers (slowloris);
//   - headers over 16 KiB get 431, a body over http_api.request_limit_in_mb 413 (bodies grow
//     with the bytes that arrive and count against the node's inbound budget: past it, 503),
//     a malformed
//     request line or header 400, conflicting framing (Content-Length twice or with
//     Transfer-Encoding) 400, a transfer coding other than `chunked` 501, a request that stalled
//     408 (a connection that sent nothing is closed silently); each with `Connection: close`;
//   - an upgrade on /app/{key} needs a valid Sec-WebSocket-Key and version 13 (else 400).
// One timer serves every deadline and is re-armed only when it fires early, so a keep-alive
// request costs no timer system call.
// Runs on the worker thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "common/limits/rate_limiter.h"
#include "dataplane/http/http_types.h"
#include "dataplane/ws/budgeted_body.h"
#include "dataplane/ws/session_env.h"

namespace sockudo::dataplane::ws {

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, SessionEnv env);
  // Starts reading (after the TLS handshake for TLS streams).
  void Run();

 private:
  using Parser = boost::beast::http::request_parser<BudgetedBody>;

  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  // The Router's answer, or the WebSocket upgrade; first the per-IP limit of the request's kind
  // when rate_limiter.enabled.
  void Dispatch();
  // Asks the limiter about this request's client IP; Dispatch goes on with its decision.
  void CheckClientIp(bool upgrade);
  void OnIpDecision(bool upgrade, const sockudo::limits::RateDecision& decision);
  // The read that starts now must be done by `deadline`; past it the read is cancelled and
  // `timed_out_` set.
  void Watch(std::chrono::steady_clock::time_point deadline);
  void Arm(std::chrono::steady_clock::time_point at);
  void OnTimer(boost::beast::error_code ec);
  void Reply(http::HttpResponse response, unsigned version, bool keep_alive);
  void Shutdown();
  void Discard(size_t discarded);

  Stream stream_;
  SessionEnv env_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;  // of what is being read, or the linger
  std::chrono::steady_clock::time_point armed_at_;  // when timer_ fires
  bool armed_ = false;
  bool watching_ = false;   // a read (or the linger) is under deadline_
  bool timed_out_ = false;  // the deadline passed
  std::string response_;    // the answer being written
  bool lingering_ = false;  // a refused body is still arriving: drain it before closing
  std::string scratch_;
  bool ip_checked_ = false;     // the per-IP limit of the request being dispatched passed
  http::Headers ip_headers_;    // its X-RateLimit-* headers, for the HTTP API's answer
  std::string ip_checked_app_;  // the app id in its /apps/{id}/... path (metrics of a 429)
};

}  // namespace sockudo::dataplane::ws
