#include "bench/webhook_receiver.h"

#include <array>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "bench/scenario.h"
#include "common/base/json.h"

namespace sockudo::bench {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

// The Content-Length of a header block, or 0.
size_t ContentLength(std::string_view head) {
  const std::string lower = absl::AsciiStrToLower(std::string(head));
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  const size_t start = at + 17;
  const size_t end = lower.find("\r\n", start);
  size_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(lower.substr(start, end - start)), &n)) return 0;
  return n;
}

}  // namespace

WebhookReceiver::WebhookReceiver(net::io_context& io, int port, OnEvent on_event)
    : acceptor_(io, tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(port))),
      on_event_(std::move(on_event)) {
  port_ = acceptor_.local_endpoint().port();
  Accept();
}

void WebhookReceiver::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;
    Serve(std::make_shared<tcp::socket>(std::move(socket)), std::make_shared<std::string>());
    Accept();
  });
}

void WebhookReceiver::Serve(std::shared_ptr<tcp::socket> socket,
                            std::shared_ptr<std::string> buffer) {
  // A whole request in the buffer: answer it, report its events, go on with what follows.
  const size_t head_end = buffer->find("\r\n\r\n");
  if (head_end != std::string::npos) {
    const size_t length = ContentLength(std::string_view(*buffer).substr(0, head_end + 2));
    if (buffer->size() >= head_end + 4 + length) {
      const int64_t arrived = NowMicros();
      std::optional<base::Json> body = base::ParseJson(std::string_view(*buffer).substr(head_end + 4, length));
      buffer->erase(0, head_end + 4 + length);
      ++requests_;
      if (body.has_value() && body->is_object() && (*body)["events"].is_array()) {
        for (const base::Json& e : (*body)["events"]) {
          if (e.is_object() && e["name"].is_string() && e["channel"].is_string()) {
            on_event_(e["name"].get<std::string>(), e["channel"].get<std::string>(), arrived);
          }
        }
      }
      net::async_write(*socket, net::buffer(kOk, sizeof(kOk) - 1),
                       [this, socket, buffer](boost::system::error_code ec, size_t) {
                         if (!ec) Serve(socket, buffer);
                       });
      return;
    }
  }
  auto chunk = std::make_shared<std::array<char, 16384>>();
  socket->async_read_some(net::buffer(*chunk), [this, socket, buffer, chunk](
                                                   boost::system::error_code ec, size_t n) {
    if (ec) return;
    buffer->append(chunk->data(), n);
    Serve(socket, buffer);
  });
}

}  // namespace sockudo::bench
