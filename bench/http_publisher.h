// File: http_publisher.h
// A keep-alive HTTP connection that sends signed Pusher HTTP API requests, one at a time.
// Single-threaded, like WsClient.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <string>

#include "bench/ws_client.h"

namespace sockudo::bench {

struct AppCredentials {
  std::string id = "app-id";
  std::string key = "app-key";
  std::string secret = "app-secret";
};

class HttpPublisher : public std::enable_shared_from_this<HttpPublisher> {
 public:
  HttpPublisher(boost::asio::io_context& io, Endpoint endpoint, AppCredentials app);

  void Connect(std::function<void(bool)> done);
  // POST /apps/{id}/events with `body`; `done(status)` (0 on a transport error, after which the
  // publisher reconnects on the next call).
  void Publish(const std::string& body, std::function<void(int)> done);
  bool busy() const { return busy_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  Endpoint endpoint_;
  AppCredentials app_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> request_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  bool busy_ = false;
  bool connected_ = false;
};

}  // namespace sockudo::bench
