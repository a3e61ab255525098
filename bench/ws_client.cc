#include "bench/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/websocket.hpp>

namespace sockudo::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

WsClient::WsClient(net::io_context& io, Endpoint endpoint, std::string app_key,
                   OnMessage on_message)
    : ws_(io),
      endpoint_(std::move(endpoint)),
      app_key_(std::move(app_key)),
      on_message_(std::move(on_message)) {}

void WsClient::Connect(std::function<void(bool)> done) {
  on_connected_ = std::move(done);
  net::ip::tcp::endpoint ep(net::ip::make_address(endpoint_.host),
                            static_cast<unsigned short>(endpoint_.port));
  ws_.next_layer().async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->on_connected_(false);
    self->ws_.next_layer().set_option(net::ip::tcp::no_delay(true));
    self->ws_.read_message_max(64 * 1024 * 1024);
    const std::string target =
        "/app/" + self->app_key_ + "?protocol=7&client=sockudo-bench&version=1.0&flash=false";
    self->ws_.async_handshake(self->endpoint_.host + ":" + std::to_string(self->endpoint_.port),
                              target, [self](beast::error_code ec2) {
                                if (ec2) return self->on_connected_(false);
                                self->Read();
                              });
  });
}

void WsClient::Read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t n) {
    if (ec) {
      const bool was_open = self->open_;
      self->open_ = false;
      if (!was_open && self->on_connected_) {
        auto cb = std::move(self->on_connected_);
        self->on_connected_ = nullptr;
        cb(false);
      }
      return;
    }
    const auto data = self->buffer_.cdata();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (!self->open_) {
      // The first frame: pusher:connection_established with the socket id inside its data string.
      const size_t pos = text.find("socket_id");
      if (text.find("pusher:connection_established") == std::string_view::npos ||
          pos == std::string_view::npos) {
        auto cb = std::move(self->on_connected_);
        self->on_connected_ = nullptr;
        if (cb) cb(false);
        return;
      }
      size_t start = text.find_first_of("0123456789", pos);
      size_t end = text.find_first_not_of("0123456789.", start);
      self->socket_id_ = std::string(text.substr(start, end - start));
      self->open_ = true;
      auto cb = std::move(self->on_connected_);
      self->on_connected_ = nullptr;
      if (cb) cb(true);
    } else {
      self->on_message_(*self, text);
    }
    self->buffer_.consume(n);
    if (!self->paused_) self->Read();
  });
}

void WsClient::Send(std::string text) {
  queue_.push_back(std::move(text));
  if (!writing_) Write();
}

void WsClient::Write() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(queue_.front()),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->queue_.pop_front();
                    self->writing_ = false;
                    if (!ec && !self->queue_.empty()) self->Write();
                  });
}

void WsClient::Close() {
  beast::error_code ignored;
  ws_.next_layer().close(ignored);
  open_ = false;
}

}  // namespace sockudo::bench
