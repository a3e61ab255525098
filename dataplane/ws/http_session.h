// File: http_session.h
// One HTTP connection on one worker: reads requests (a new parser each, with the body limit and
// an idle timeout), hands a valid `/app/{key}` upgrade to a WsSession, and answers everything
// else through the Router, keep-alive included. Runs on the worker thread.
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
  void DoRead();
  void OnRead(boost::beast::error_code ec);
  void Reply(http::HttpResponse response, unsigned version, bool keep_alive);
  void Shutdown();
  void Discard(size_t discarded);

  Stream stream_;
  SessionEnv env_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::asio::steady_timer timer_;
  std::string response_;    // the answer being written
  bool lingering_ = false;  // a refused body is still arriving: drain it before closing
  std::string scratch_;
};

}  // namespace sockudo::dataplane::ws
