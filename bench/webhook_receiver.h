// File: webhook_receiver.h
// The webhook endpoint of the `webhooks` scenario: an HTTP/1.1 server on 127.0.0.1 (keep-alive,
// Content-Length bodies) run on the scenario's io_context. Every request is answered 200 at once;
// each event of its body ({"time_ms":…,"events":[{"name":…,"channel":…},…]}) goes to the
// callback with its arrival time. Single-threaded: callbacks run on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace sockudo::bench {

class WebhookReceiver {
 public:
  using OnEvent = std::function<void(const std::string& name, const std::string& channel,
                                     int64_t arrived_us)>;

  // Listens on 127.0.0.1:`port` (0: any free port).
  WebhookReceiver(boost::asio::io_context& io, int port, OnEvent on_event);
  int port() const { return port_; }
  int64_t requests() const { return requests_; }

 private:
  void Accept();
  void Serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket,
             std::shared_ptr<std::string> buffer);

  boost::asio::ip::tcp::acceptor acceptor_;
  OnEvent on_event_;
  int port_ = 0;
  int64_t requests_ = 0;
};

}  // namespace sockudo::bench
