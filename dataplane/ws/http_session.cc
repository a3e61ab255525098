// HttpSession, instantiated here for the three stream types.
#include "dataplane/ws/http_session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dataplane/limits/client_ip.h"
#include "dataplane/metrics/metrics.h"
#include "dataplane/node/node_context.h"
#include "dataplane/ws/handshake.h"
#include "dataplane/ws/stream_types.h"
#include "dataplane/ws/ws_session.h"

namespace sockudo::dataplane::ws {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFirstRequestTimeout = std::chrono::seconds(10);
constexpr auto kKeepAliveTimeout = std::chrono::seconds(60);
constexpr auto kBodyTimeout = std::chrono::seconds(60);
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr size_t kHeaderLimit = 16 * 1024;

// Status line, headers and body in one buffer, written with one send. (Beast's field container
// and serializer cost more than the API request they answer; perf, publish.) Header values come
// from our handlers; a CR or LF in one is dropped rather than allowed to end the line.
std::string SerializeResponse(const http::HttpResponse& r, unsigned version, bool keep_alive) {
  const bool bodyless = r.status < 200 || r.status == 204 || r.status == 304;
  std::string out;
  out.reserve(160 + r.body.size());
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(r.status));
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  out.append(reason.data(), reason.size());
  out.append("\r\nServer: sockudo\r\n");
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    for (char c : value) {
      if (c != '\r' && c != '\n') out.push_back(c);
    }
    out.append("\r\n");
  };
  field("Content-Type", r.content_type);
  for (const auto& [name, value] : r.headers) field(name, value);
  if (!bodyless) field("Content-Length", std::to_string(r.body.size()));
  if (version == 10 && keep_alive) field("Connection", "keep-alive");
  if (version != 10 && !keep_alive) field("Connection", "close");
  out.append("\r\n");
  if (!bodyless) out.append(r.body);
  return out;
}

// Message framing Beast lets through but a server in front of or behind a proxy must refuse
// (RFC 9112 §6.1, §6.3: request smuggling): a repeated Content-Length, Content-Length with
// Transfer-Encoding, and transfer codings we do not implement.
std::optional<http::HttpResponse> FramingProblem(const bhttp::request_parser<BudgetedBody>& p) {
  const auto& req = p.get();
  const size_t lengths = req.count(bhttp::field::content_length);
  const size_t codings = req.count(bhttp::field::transfer_encoding);
  if (lengths > 1 ||
      (lengths == 1 && req[bhttp::field::content_length].find(',') != beast::string_view::npos)) {
    return http::Text(400, "Bad Request: repeated Content-Length");
  }
  if (lengths > 0 && codings > 0) {
    return http::Text(400, "Bad Request: Content-Length with Transfer-Encoding");
  }
  if (codings > 1) return http::Text(501, "Not Implemented: transfer coding");
  if (codings == 1) {
    const auto value = req[bhttp::field::transfer_encoding];
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace({value.data(), value.size()}),
                                "chunked")) {
      return http::Text(501, "Not Implemented: transfer coding");
    }
  }
  return std::nullopt;
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, SessionEnv env)
    : stream_(std::move(stream)),
      env_(env),
      buffer_(kHeaderLimit + 4096),
      timer_(stream_.get_executor()) {}

template <class Stream>
void HttpSession<Stream>::Run() {
  if constexpr (kIsTls<Stream>) {
    Watch(Clock::now() + kTlsHandshakeTimeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->Shutdown();
                              self->Watch(Clock::now() + kFirstRequestTimeout);
                              self->ReadHeader();
                            });
  } else {
    Watch(Clock::now() + kFirstRequestTimeout);
    ReadHeader();
  }
}

template <class Stream>
void HttpSession<Stream>::Watch(Clock::time_point deadline) {
  deadline_ = deadline;
  watching_ = true;
  timed_out_ = false;
  // A later deadline waits for the armed timer to fire and re-arm it; only an earlier one needs
  // the timer moved now.
  if (!armed_ || deadline < armed_at_) Arm(deadline);
}

template <class Stream>
void HttpSession<Stream>::Arm(Clock::time_point at) {
  armed_ = true;
  armed_at_ = at;
  timer_.expires_at(at);  // cancels a pending wait, whose handler then sees operation_aborted
  timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
    if (auto self = weak.lock()) self->OnTimer(ec);
  });
}

template <class Stream>
void HttpSession<Stream>::OnTimer(beast::error_code ec) {
  if (ec) return;  // moved (a newer wait is pending) or the session is closing
  armed_ = false;
  if (!watching_) return;
  if (Clock::now() < deadline_) return Arm(deadline_);
  watching_ = false;
  timed_out_ = true;
  beast::error_code ignored;
  if (lingering_) {
    Lowest(stream_).close(ignored);
  } else {
    Lowest(stream_).cancel(ignored);
  }
}

template <class Stream>
void HttpSession<Stream>::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(static_cast<std::uint64_t>(env_.node->config.http_api.request_limit_in_mb) *
                      1024 * 1024);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
void HttpSession<Stream>::OnHeader(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  const unsigned version = parser_->get().version();
  if (auto problem = FramingProblem(*parser_)) return Reply(std::move(*problem), version, false);
  if (parser_->is_done()) return Dispatch();
  parser_->get().body().set_budget(&env_.node->inbound_buffers);
  Watch(Clock::now() + kBodyTimeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec2, size_t) { self->OnBody(ec2); });
}

template <class Stream>
void HttpSession<Stream>::OnBody(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  Dispatch();
}

template <class Stream>
void HttpSession<Stream>::OnReadError(beast::error_code ec) {
  watching_ = false;
  const unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
  if (timed_out_) {
    // Nothing arrived: close silently. Part of a request arrived and the rest did not
    // (slowloris): 408. A TLS stream cannot write after its read was cancelled mid-record.
    if (!parser_->got_some() && buffer_.size() == 0) return Shutdown();
    if constexpr (kIsTls<Stream>) return Shutdown();
    return Reply(http::Text(408, "Request Timeout"), version, false);
  }
  if (ec == bhttp::error::body_limit && parser_->get().body().over_budget()) {
    http::HttpResponse busy = http::JsonError(503, "The server is busy. Try again later.");
    busy.headers.emplace_back("Retry-After", "1");
    lingering_ = true;
    return Reply(std::move(busy), version, false);
  }
  if (ec == bhttp::error::body_limit) {
    // Answer, then discard what the client is still sending so that closing does not reset the
    // connection before it has read the 413.
    lingering_ = true;
    return Reply(http::JsonError(413, "The payload size is too big."), version, false);
  }
  if (ec == bhttp::error::header_limit) {
    return Reply(http::Text(431, "Request Header Fields Too Large"), version, false);
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return Reply(http::Text(400, "Bad Request"), version, false);
  }
  Shutdown();  // the peer went away (EOF, reset, cancelled)
}

template <class Stream>
void HttpSession<Stream>::Dispatch() {
  watching_ = false;  // the request is in; the answer is not under a read deadline
  auto& req = parser_->get();
  const std::string target(req.target());
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  const bool limit_ip = !env_.metrics_listener && !ip_checked_ &&
                        env_.node->config.rate_limiter.enabled && env_.node->rate_limiter;
  ip_checked_ = false;

  if (!env_.metrics_listener && beast::websocket::is_upgrade(req)) {
    const auto relative = env_.router->StripPrefix(path);
    if (relative.has_value() && absl::StartsWith(*relative, "/app/") && relative->size() > 5 &&
        relative->find('/', 5) == std::string::npos) {
      if (limit_ip) return CheckClientIp(true);
      auto header = [&req](bhttp::field f) -> std::optional<std::string_view> {
        auto it = req.find(f);
        if (it == req.end()) return std::nullopt;
        return std::string_view(it->value().data(), it->value().size());
      };
      const auto key = header(bhttp::field::sec_websocket_key);
      auto problem = UpgradeProblem(key, header(bhttp::field::sec_websocket_version));
      if (!problem.has_value() && req.body().size() > 0) problem = "An upgrade carries no body";
      if (problem.has_value()) {
        http::HttpResponse bad = http::Text(400, *problem);
        bad.headers.emplace_back("Sec-WebSocket-Version", "13");
        return Reply(std::move(bad), req.version(), false);
      }
      std::optional<std::string> origin;
      if (auto o = header(bhttp::field::origin)) origin = std::string(*o);
      const auto rest = buffer_.cdata();
      auto session = std::make_shared<WsSession<Stream>>(
          std::move(stream_), env_, http::PercentDecode(relative->substr(5)), std::move(origin),
          std::string_view(static_cast<const char*>(rest.data()), rest.size()));
      session->Start(AcceptKey(*key));
      return;
    }
  }

  if (limit_ip) {
    const auto relative = env_.router->StripPrefix(path);
    if (relative.has_value() && absl::StartsWith(*relative, "/apps/")) {
      const std::string_view rest = std::string_view(*relative).substr(6);
      ip_checked_app_ = http::PercentDecode(rest.substr(0, rest.find('/')));
      return CheckClientIp(false);
    }
  }

  http::HttpRequest request;
  request.method = std::string(req.method_string());
  request.path = path;
  if (q != std::string::npos)
    request.query = http::ParseQuery(std::string_view(target).substr(q + 1));
  request.body = req.body().Take();
  if (auto it = req.find(bhttp::field::origin); it != req.end())
    request.origin = std::string(it->value());
  request.metrics_listener = env_.metrics_listener;
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  env_.router->Handle(request, [self = this->shared_from_this(), version, keep_alive,
                                limit_headers = std::move(ip_headers_)](http::HttpResponse r) {
    // The per-app limit's X-RateLimit-* (already in the answer) are the more specific ones.
    for (const auto& header : limit_headers) {
      if (std::none_of(r.headers.begin(), r.headers.end(),
                       [&](const auto& h) { return h.first == header.first; })) {
        r.headers.push_back(header);
      }
    }
    net::dispatch(self->stream_.get_executor(),
                  [self, r = std::move(r), version, keep_alive]() mutable {
                    self->Reply(std::move(r), version, keep_alive);
                  });
  });
  ip_headers_.clear();
}

template <class Stream>
void HttpSession<Stream>::CheckClientIp(bool upgrade) {
  const config::RateLimitWindowConfig& window =
      upgrade ? env_.node->config.rate_limiter.websocket : env_.node->config.rate_limiter.api;
  std::string peer = "unix";
  if constexpr (!std::is_same_v<Stream, UnixStream>) {
    beast::error_code ec;
    auto remote = Lowest(stream_).remote_endpoint(ec);
    peer = ec ? "unknown" : remote.address().to_string();
  }
  auto& req = parser_->get();
  auto header = [&req](std::string_view name) {
    auto it = req.find(name);
    return it == req.end() ? std::string_view()
                           : std::string_view(it->value().data(), it->value().size());
  };
  const std::string ip =
      limits::ClientIp(peer, header("X-Forwarded-For"), header("X-Real-IP"), window.trust_hops);
  env_.node->rate_limiter->Hit(
      absl::StrCat(window.identifier, ":", ip), window.max_requests, window.window_seconds,
      [self = this->shared_from_this(), upgrade](sockudo::limits::RateDecision d) mutable {
        // The session goes with the handler: its last reference never drops on the store's
        // thread (its sockets belong to the worker).
        auto executor = self->stream_.get_executor();
        net::dispatch(executor,
                      [self = std::move(self), upgrade, d] { self->OnIpDecision(upgrade, d); });
      });
}

template <class Stream>
void HttpSession<Stream>::OnIpDecision(bool upgrade, const sockudo::limits::RateDecision& d) {
  env_.node->metrics.rate_limits().Count(
      upgrade ? metrics::Limiter::kWebsocketConnect : metrics::Limiter::kApi, d.allowed);
  http::Headers headers = {{"X-RateLimit-Limit", std::to_string(d.limit)},
                           {"X-RateLimit-Remaining", std::to_string(d.remaining)},
                           {"X-RateLimit-Reset", std::to_string(d.reset_seconds)}};
  auto& req = parser_->get();
  if (!d.allowed) {
    // 429 with Retry-After; an upgrade is refused before switching protocols.
    http::HttpResponse r = http::JsonError(429, "Too many requests.");
    r.headers = std::move(headers);
    r.headers.emplace_back("Retry-After", std::to_string(d.reset_seconds));
    if (!upgrade) {
      // Counted like every answered API call: http_calls_received_total{app_id, status="429"}.
      node::NodeContext& node = *env_.node;
      node.metrics.ForApp(node.apps.FindById(ip_checked_app_) ? ip_checked_app_ : "")
          .CountHttpCall(429, r.body.size());
    }
    return Reply(std::move(r), req.version(), !upgrade && req.keep_alive());
  }
  if (!upgrade) ip_headers_ = std::move(headers);
  ip_checked_ = true;
  Dispatch();
}

template <class Stream>
void HttpSession<Stream>::Reply(http::HttpResponse r, unsigned version, bool keep_alive) {
  // A draining node ends keep-alive connections after each answer, so clients (SDKs with a
  // connection pool, a load balancer) move to a node that stays.
  if (env_.node->draining.load()) keep_alive = false;
  response_ = SerializeResponse(r, version, keep_alive);
  net::async_write(stream_, net::buffer(response_),
                   [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                     self->response_ = std::string();
                     if (ec || !keep_alive) return self->Shutdown();
                     self->Watch(Clock::now() + kKeepAliveTimeout);
                     self->ReadHeader();
                   });
}

template <class Stream>
void HttpSession<Stream>::Shutdown() {
  beast::error_code ignored;
  watching_ = false;
  if constexpr (kIsTls<Stream>) {
    timer_.cancel();
    Lowest(stream_).close(ignored);
  } else {
    stream_.shutdown(net::socket_base::shutdown_send, ignored);
    if (lingering_) {
      // Bounded: 5 s and 64 MiB at most.
      Watch(Clock::now() + kLingerTimeout);
      Discard(0);
      return;
    }
    timer_.cancel();
    stream_.close(ignored);
  }
}

template <class Stream>
void HttpSession<Stream>::Discard(size_t discarded) {
  constexpr size_t kMaxDiscard = 64 * 1024 * 1024;
  scratch_.resize(64 * 1024);
  stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this(), discarded](
                                                     beast::error_code ec, size_t n) {
    if (ec || discarded + n > kMaxDiscard) {
      beast::error_code ignored;
      self->timer_.cancel();
      Lowest(self->stream_).close(ignored);
      return;
    }
    self->Discard(discarded + n);
  });
}

template class HttpSession<TcpStream>;
template class HttpSession<TlsStream>;
template class HttpSession<UnixStream>;

}  // namespace sockudo::dataplane::ws
