// The HttpSession and WsSession templates, instantiated once here for the three stream types so
// that the Beast-heavy code compiles in one translation unit.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "absl/strings/match.h"
#include "common/base/logging.h"
#include "dataplane/connection/admission.h"
#include "dataplane/http/http_types.h"
#include "dataplane/protocol/close_codes.h"
#include "dataplane/ws/http_session.h"
#include "dataplane/ws/stream_types.h"
#include "dataplane/ws/ws_session.h"

namespace sockudo::dataplane::ws {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kHttpIdleTimeout = std::chrono::seconds(60);
constexpr size_t kHeaderLimit = 16 * 1024;

// A close reason fits in 123 bytes; cut at a UTF-8 boundary.
std::string TruncateReason(std::string_view reason) {
  if (reason.size() <= 123) return std::string(reason);
  size_t n = 123;
  while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
  return std::string(reason.substr(0, n));
}

template <class Stream>
auto& Lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// WsSession

template <class Stream>
WsSession<Stream>::WsSession(Stream&& stream, SessionEnv env, std::string app_key)
    : ws_(std::move(stream)), env_(env), app_key_(std::move(app_key)) {
  const config::WebSocketBufferConfig& limits = env_.node->config.websocket;
  max_messages_ = limits.max_messages.has_value() ? static_cast<size_t>(*limits.max_messages)
                  : limits.max_bytes.has_value() ? SIZE_MAX
                                                 : 1000;
  max_bytes_ = limits.max_bytes.has_value() ? static_cast<size_t>(*limits.max_bytes) : SIZE_MAX;
  env_.node->live_websockets.fetch_add(1);
}

template <class Stream>
WsSession<Stream>::~WsSession() {
  connection_.reset();
  env_.node->live_websockets.fetch_sub(1);
}

template <class Stream>
void WsSession<Stream>::Run(Request request) {
  ws_.read_message_max(static_cast<size_t>(env_.node->config.websocket_max_payload_kb) * 1024);
  websocket::stream_base::timeout timeouts{std::chrono::seconds(5), websocket::stream_base::none(), false};
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(bhttp::field::server, "sockudo"); }));
  ws_.control_callback([this](websocket::frame_type, beast::string_view) {
    if (connection_) connection_->OnActivity(Clock::now());
  });
  std::optional<std::string> origin;
  if (auto it = request.find(bhttp::field::origin); it != request.end()) origin = std::string(it->value());
  auto req = std::make_shared<Request>(std::move(request));
  ws_.async_accept(*req, [self = this->shared_from_this(), req, origin](beast::error_code ec) {
    self->OnAccept(ec, origin);
  });
}

template <class Stream>
void WsSession<Stream>::OnAccept(beast::error_code ec, std::optional<std::string> origin) {
  if (ec) return;
  node::NodeContext& node = *env_.node;
  auto admission = connection::Admit(node, app_key_, origin);
  if (auto* refused = std::get_if<connection::Refused>(&admission)) {
    Write(protocol::MakeShared(protocol::ErrorFrame(refused->code, refused->message)));
    Close(refused->code, refused->message);
    DoRead();  // so that the close handshake completes
    return;
  }
  auto& admitted = std::get<connection::Admitted>(admission);
  connection_ = std::make_unique<connection::Connection>(node, *env_.worker, std::move(admitted.app),
                                                         std::move(admitted.socket_id), *this);
  connection_->Open(Clock::now());
  DoRead();
}

template <class Stream>
void WsSession<Stream>::DoRead() {
  ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
    self->OnRead(ec, bytes);
  });
}

template <class Stream>
void WsSession<Stream>::OnRead(beast::error_code ec, size_t bytes) {
  if (ec) {
    Finish();
    return;
  }
  if (connection_ && !closing_) {
    const auto data = buffer_.cdata();
    connection_->OnMessage(std::string_view(static_cast<const char*>(data.data()), data.size()), Clock::now());
  }
  buffer_.consume(bytes);
  DoRead();
}

template <class Stream>
bool WsSession<Stream>::Write(const protocol::SharedFrame& frame) {
  if (close_requested_ || finished_) return true;  // nothing more goes out; not a slow consumer
  if (queue_.size() >= max_messages_ || queued_bytes_ + frame->size() > max_bytes_) return false;
  queue_.push_back(frame);
  queued_bytes_ += frame->size();
  if (!writing_) DoWrite();
  return true;
}

template <class Stream>
void WsSession<Stream>::DoWrite() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(*queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
    self->OnWrite(ec);
  });
}

template <class Stream>
void WsSession<Stream>::OnWrite(beast::error_code ec) {
  queued_bytes_ -= queue_.front()->size();
  queue_.pop_front();
  writing_ = false;
  if (ec) {
    queue_.clear();
    queued_bytes_ = 0;
    Finish();
    return;
  }
  if (!queue_.empty()) {
    DoWrite();
  } else if (close_requested_ && !closing_) {
    DoClose();
  }
}

template <class Stream>
void WsSession<Stream>::Close(int code, std::string_view reason) {
  if (close_requested_) return;
  close_requested_ = true;
  close_code_ = code;
  close_reason_ = TruncateReason(reason);
  if (!writing_) DoClose();
}

template <class Stream>
void WsSession<Stream>::DoClose() {
  closing_ = true;
  websocket::close_reason cr(static_cast<websocket::close_code>(close_code_), close_reason_);
  ws_.async_close(cr, [self = this->shared_from_this()](beast::error_code) { self->Finish(); });
}

template <class Stream>
void WsSession<Stream>::Defer(std::function<void()> fn) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(), fn = std::move(fn)] {
    if (!self->finished_) fn();
  });
}

template <class Stream>
void WsSession<Stream>::Finish() {
  if (finished_) return;
  finished_ = true;
  if (connection_) connection_->OnTransportClosed();
  beast::error_code ignored;
  Lowest(ws_).close(ignored);
}

// ---------------------------------------------------------------------------------------------
// HttpSession

template <class Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, SessionEnv env)
    : stream_(std::move(stream)), env_(env), timer_(stream_.get_executor()) {}

template <class Stream>
void HttpSession<Stream>::Run() {
  if constexpr (kIsTls<Stream>) {
    timer_.expires_after(std::chrono::seconds(10));
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) {
        beast::error_code ignored;
        Lowest(self->stream_).close(ignored);
      }
    });
    stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
      self->timer_.cancel();
      if (!ec) self->DoRead();
    });
  } else {
    DoRead();
  }
}

template <class Stream>
void HttpSession<Stream>::DoRead() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(static_cast<std::uint64_t>(env_.node->config.http_api.request_limit_in_mb) * 1024 * 1024);
  timer_.expires_after(kHttpIdleTimeout);
  timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) {
      beast::error_code ignored;
      Lowest(self->stream_).close(ignored);
    }
  });
  bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    self->OnRead(ec);
  });
}

template <class Stream>
void HttpSession<Stream>::OnRead(beast::error_code ec) {
  timer_.cancel();
  if (ec == bhttp::error::body_limit) {
    // Answer, then discard what the client is still sending so that closing does not reset the
    // connection before it has read the 413.
    lingering_ = true;
    Reply(http::JsonError(413, "The payload size is too big."), 11, false);
    return;
  }
  if (ec) {
    Shutdown();
    return;
  }
  auto& req = parser_->get();
  const std::string target(req.target());
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);

  if (!env_.metrics_listener && websocket::is_upgrade(req)) {
    const auto relative = env_.router->StripPrefix(path);
    if (relative.has_value() && absl::StartsWith(*relative, "/app/") && relative->size() > 5 &&
        relative->find('/', 5) == std::string::npos) {
      std::string key = http::PercentDecode(relative->substr(5));
      auto session = std::make_shared<WsSession<Stream>>(std::move(stream_), env_, std::move(key));
      session->Run(parser_->release());
      return;
    }
  }

  http::HttpRequest request;
  request.method = std::string(req.method_string());
  request.path = path;
  if (q != std::string::npos) request.query = http::ParseQuery(std::string_view(target).substr(q + 1));
  request.body = std::move(req.body());
  if (auto it = req.find(bhttp::field::origin); it != req.end()) request.origin = std::string(it->value());
  request.metrics_listener = env_.metrics_listener;
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  env_.router->Handle(request, [self = this->shared_from_this(), version, keep_alive](http::HttpResponse r) {
    net::dispatch(self->stream_.get_executor(), [self, r = std::move(r), version, keep_alive]() mutable {
      self->Reply(std::move(r), version, keep_alive);
    });
  });
}

template <class Stream>
void HttpSession<Stream>::Reply(http::HttpResponse r, unsigned version, bool keep_alive) {
  response_ = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), version);
  response_->set(bhttp::field::server, "sockudo");
  response_->set(bhttp::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) response_->set(name, value);
  response_->keep_alive(keep_alive);
  response_->body() = std::move(r.body);
  response_->prepare_payload();
  bhttp::async_write(stream_, *response_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
    if (ec || !keep_alive) {
      self->Shutdown();
    } else {
      self->DoRead();
    }
  });
}

template <class Stream>
void HttpSession<Stream>::Shutdown() {
  beast::error_code ignored;
  if constexpr (kIsTls<Stream>) {
    Lowest(stream_).close(ignored);
  } else {
    stream_.shutdown(net::socket_base::shutdown_send, ignored);
    if (lingering_) {
      // Bounded: 5 s and 64 MiB at most.
      timer_.expires_after(std::chrono::seconds(5));
      timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        beast::error_code ignored2;
        if (!ec) Lowest(self->stream_).close(ignored2);
      });
      Discard(0);
      return;
    }
    stream_.close(ignored);
  }
}

template <class Stream>
void HttpSession<Stream>::Discard(size_t discarded) {
  constexpr size_t kMaxDiscard = 64 * 1024 * 1024;
  scratch_.resize(64 * 1024);
  stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this(), discarded](beast::error_code ec, size_t n) {
    if (ec || discarded + n > kMaxDiscard) {
      beast::error_code ignored;
      self->timer_.cancel();
      Lowest(self->stream_).close(ignored);
      return;
    }
    self->Discard(discarded + n);
  });
}

template class WsSession<TcpStream>;
template class WsSession<TlsStream>;
template class WsSession<UnixStream>;
template class HttpSession<TcpStream>;
template class HttpSession<TlsStream>;
template class HttpSession<UnixStream>;

}  // namespace sockudo::dataplane::ws
