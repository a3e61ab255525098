#include "bench/http_publisher.h"

#include <chrono>

#include "common/crypto/hmac.h"
#include "common/crypto/pusher_signature.h"

namespace sockudo::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpPublisher::HttpPublisher(net::io_context& io, Endpoint endpoint, AppCredentials app)
    : socket_(io), endpoint_(std::move(endpoint)), app_(std::move(app)) {}

void HttpPublisher::Connect(std::function<void(bool)> done) {
  net::ip::tcp::endpoint ep(net::ip::make_address(endpoint_.host),
                            static_cast<unsigned short>(endpoint_.port));
  socket_.async_connect(ep,
                        [self = shared_from_this(), done = std::move(done)](beast::error_code ec) {
                          if (!ec) self->socket_.set_option(net::ip::tcp::no_delay(true));
                          self->connected_ = !ec;
                          done(!ec);
                        });
}

void HttpPublisher::Publish(const std::string& body, std::function<void(int)> done) {
  busy_ = true;
  if (!connected_) {
    // The server closed the previous connection (no keep-alive, or an error): open a new one.
    beast::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
    Connect([self = shared_from_this(), body, done = std::move(done)](bool ok) mutable {
      if (!ok) {
        self->busy_ = false;
        return done(0);
      }
      self->connected_ = true;
      self->Publish(body, std::move(done));
    });
    return;
  }
  const std::string path = "/apps/" + app_.id + "/events";
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  crypto::QueryParams params = {
      {"auth_key", app_.key},
      {"auth_timestamp",
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count())},
      {"auth_version", "1.0"},
      {"body_md5", crypto::Md5Hex(body)}};
  const std::string signature = crypto::SignHttpRequest(app_.secret, "POST", path, params);
  std::string target = path + "?";
  for (const auto& [k, v] : params) target += k + "=" + v + "&";
  target += "auth_signature=" + signature;

  request_ = {};
  request_.method(http::verb::post);
  request_.target(target);
  request_.version(11);
  request_.set(http::field::host, endpoint_.host);
  request_.set(http::field::content_type, "application/json");
  request_.keep_alive(true);
  request_.body() = body;
  request_.prepare_payload();
  http::async_write(
      socket_, request_,
      [self = shared_from_this(), done = std::move(done)](beast::error_code ec, size_t) mutable {
        if (ec) {
          self->busy_ = false;
          self->connected_ = false;
          return done(0);
        }
        self->response_ = {};
        http::async_read(self->socket_, self->buffer_, self->response_,
                         [self, done = std::move(done)](beast::error_code ec2, size_t) {
                           self->busy_ = false;
                           if (ec2 || !self->response_.keep_alive()) self->connected_ = false;
                           done(ec2 ? 0 : static_cast<int>(self->response_.result_int()));
                         });
      });
}

}  // namespace sockudo::bench
