// File: http_session.h
// One HTTP connection on one worker: reads requests, hands a valid `/app/{key}` upgrade to a
// WsSession, and answers everything else through the Router, keep-alive included.
//
// Reading is strict and bounded, so a hostile client costs little and learns why it was refused:
//   - the first byte must come within 10 s of the accept (60 s between keep-alive requests),
//     then the request line and headers within 10 s (slowloris), the body within 60 s;
//   - headers over 16 KiB get 431, a body over http_api.request_limit_in_mb 413, a malformed
//     request line or header 400, conflicting framing (Content-Length twice or with
//     Transfer-Encoding) 400, a transfer coding other than `chunked` 501, a request whose
//     headers stalled 408; each with `Connection: close`;
//   - an upgrade on /app/{key} needs a valid Sec-WebSocket-Key and version 13 (else 400).
// Runs on the worker thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/http/http_types.h"
#include "dataplane/ws/session_env.h"

namespace sockudo::dataplane::ws {

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, SessionEnv env);
  // Starts reading (after the TLS handshake for TLS streams).
  void Run();

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void WaitForRequest();
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  // The Router's answer, or the WebSocket upgrade.
  void Dispatch();
  // Sets the read deadline: when it passes, the pending read is cancelled and `timed_out_` set.
  void Deadline(std::chrono::steady_clock::duration d);
  void Reply(http::HttpResponse response, unsigned version, bool keep_alive);
  void Shutdown();
  void Discard(size_t discarded);

  Stream stream_;
  SessionEnv env_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  boost::asio::steady_timer timer_;
  bool served_ = false;     // a request was answered on this connection (keep-alive)
  bool timed_out_ = false;  // the read deadline passed
  std::string response_;    // the answer being written
  bool lingering_ = false;  // a refused body is still arriving: drain it before closing
  std::string scratch_;
};

}  // namespace sockudo::dataplane::ws
