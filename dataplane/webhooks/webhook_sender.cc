#include "dataplane/webhooks/webhook_sender.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace sockudo::dataplane::webhooks {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

bool ParseUrl(const std::string& url, ParsedUrl* out) {
  std::string rest;
  const std::string lower = absl::AsciiStrToLower(url.substr(0, 8));
  if (absl::StartsWith(lower, "http://")) {
    out->tls = false;
    rest = url.substr(7);
  } else if (absl::StartsWith(lower, "https://")) {
    out->tls = true;
    rest = url.substr(8);
  } else {
    return false;
  }
  const size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  out->target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!out->target.empty() && out->target[0] == '?') out->target = "/" + out->target;
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return false;
  if (authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    out->host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    out->port = absl::StartsWith(after, ":") ? after.substr(1) : "";
  } else {
    const size_t colon = authority.rfind(':');
    out->host = authority.substr(0, colon);
    out->port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (out->port.empty()) out->port = out->tls ? "443" : "80";
  return !out->host.empty();
}

namespace {

template <class Stream>
HttpAttempt Exchange(net::io_context& io, Stream& stream, beast::tcp_stream& tcp_layer,
                     const ParsedUrl& u, http::request<http::string_body>& req,
                     std::chrono::milliseconds timeout, bool tls) {
  HttpAttempt result;
  beast::error_code failure;
  const char* stage = "resolve";
  tcp::resolver resolver(io);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  tcp_layer.expires_after(timeout);
  auto fail = [&](const char* where, beast::error_code ec) {
    failure = ec;
    stage = where;
  };
  auto read = [&] {
    http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) {
      if (ec) return fail("read", ec);
      result.status = static_cast<int>(res.result_int());
    });
  };
  auto write = [&] {
    http::async_write(stream, req, [&](beast::error_code ec, size_t) {
      if (ec) return fail("write", ec);
      read();
    });
  };
  resolver.async_resolve(u.host, u.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) return fail("resolve", ec);
    tcp_layer.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) return fail("connect", ec2);
      if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
        stream.async_handshake(net::ssl::stream_base::client, [&](beast::error_code ec3) {
          if (ec3) return fail("tls handshake", ec3);
          write();
        });
      } else {
        write();
      }
    });
  });
  (void)tls;
  io.run();
  if (result.status == 0) {
    result.error = std::string(stage) + ": " + (failure ? failure.message() : "no response");
  }
  beast::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return result;
}

}  // namespace

HttpAttempt PostWebhook(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& app_key, const std::string& signature,
                        const std::string& body, std::chrono::milliseconds timeout) {
  ParsedUrl u;
  if (!ParseUrl(url, &u)) return {0, "invalid url"};
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  const bool default_port = u.port == (u.tls ? "443" : "80");
  const std::string host_header =
      (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) +
      (default_port ? "" : ":" + u.port);
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, "sockudo-webhooks/" SOCKUDO_WEBHOOK_VERSION);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.set(http::field::content_type, "application/json");
  req.set("X-Pusher-Key", app_key);
  req.set("X-Pusher-Signature", signature);
  req.set(http::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  try {
    net::io_context io;
    if (!u.tls) {
      beast::tcp_stream stream(io);
      return Exchange(io, stream, stream, u, req, timeout, false);
    }
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(net::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
    stream.set_verify_callback(net::ssl::host_name_verification(u.host));
    return Exchange(io, stream, beast::get_lowest_layer(stream), u, req, timeout, true);
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

}  // namespace sockudo::dataplane::webhooks
