// The HttpSession and WsSession templates, instantiated once here for the three stream types so
// that the Beast-heavy code compiles in one translation unit.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "common/base/logging.h"
#include "dataplane/connection/admission.h"
#include "dataplane/http/http_types.h"
#include "dataplane/protocol/close_codes.h"
#include "dataplane/ws/frame_codec.h"
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

template <class Stream>
auto& Lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

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

}  // namespace

// ---------------------------------------------------------------------------------------------
// WsSession

namespace {
constexpr size_t kInitialReadBuffer = 256;
constexpr size_t kShrinkAbove = 64 * 1024;
constexpr auto kCloseTimeout = std::chrono::seconds(5);
constexpr size_t kMaxRingBuffers = 1024;  // IOV_MAX on Linux; longer batches go through Asio
}  // namespace

template <class Stream>
WsSession<Stream>::WsSession(Stream&& stream, SessionEnv env, std::string app_key,
                             std::optional<std::string> origin, std::string leftover)
    : stream_(std::move(stream)),
      env_(env),
      app_key_(std::move(app_key)),
      origin_(std::move(origin)) {
  const config::Config& config = env_.node->config;
  const config::WebSocketBufferConfig& limits = config.websocket;
  max_messages_ = limits.max_messages.has_value() ? static_cast<size_t>(*limits.max_messages)
                  : limits.max_bytes.has_value()  ? SIZE_MAX
                                                  : 1000;
  max_bytes_ = limits.max_bytes.has_value() ? static_cast<size_t>(*limits.max_bytes) : SIZE_MAX;
  max_payload_ = static_cast<uint64_t>(config.websocket_max_payload_kb) * 1024;
  if constexpr (!kIsTls<Stream>) ring_ = env_.send_ring;
  if (ring_ != nullptr) ring_->Attach(Lowest(stream_).native_handle());
  ring_write_.done = &WsSession::OnRingDone;
  Reserve(std::max(kInitialReadBuffer, leftover.size()));
  std::memcpy(rbuf_.get(), leftover.data(), leftover.size());
  rlen_ = leftover.size();
  env_.node->live_websockets.fetch_add(1);
}

template <class Stream>
WsSession<Stream>::~WsSession() {
  connection_.reset();
  env_.node->live_websockets.fetch_sub(1);
}

template <class Stream>
void WsSession<Stream>::Reserve(size_t capacity) {
  auto bigger = std::make_unique<char[]>(capacity);
  if (rlen_ > 0) std::memcpy(bigger.get(), rbuf_.get(), rlen_);
  rbuf_ = std::move(bigger);
  rcap_ = capacity;
}

template <class Stream>
void WsSession<Stream>::Start(const std::string& accept_key) {
  ++corked_;
  Enqueue(std::make_shared<const protocol::OutboundFrame>(
      protocol::OutboundFrame::kRaw,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Server: sockudo\r\nSec-WebSocket-Accept: " +
          accept_key + "\r\n\r\n"));
  auto admission = connection::Admit(*env_.node, app_key_, origin_);
  if (auto* refused = std::get_if<connection::Refused>(&admission)) {
    Write(protocol::MakeShared(protocol::ErrorFrame(refused->code, refused->message)));
    Close(refused->code, refused->message);
  } else {
    auto& admitted = std::get<connection::Admitted>(admission);
    connection_ = std::make_unique<connection::Connection>(
        *env_.node, *env_.worker, std::move(admitted.app), std::move(admitted.socket_id), *this);
    connection_->Open(Clock::now());
  }
  Uncork();
  if (rlen_ > 0) {
    ProcessFrames();
  }
  if (!finished_) DoRead();
}

template <class Stream>
void WsSession<Stream>::DoRead() {
  if (rlen_ == rcap_) Reserve(rcap_ * 2);
  stream_.async_read_some(net::buffer(rbuf_.get() + rlen_, rcap_ - rlen_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
                            self->OnRead(ec, bytes);
                          });
}

template <class Stream>
void WsSession<Stream>::OnRead(beast::error_code ec, size_t bytes) {
  if (ec || finished_) {
    Finish();
    return;
  }
  rlen_ += bytes;
  ProcessFrames();
  if (!finished_) DoRead();
}

template <class Stream>
void WsSession<Stream>::ProcessFrames() {
  ++corked_;  // answers to every frame of this read leave in one write
  size_t offset = 0;
  const auto now = Clock::now();
  while (!finished_) {
    ParsedFrame f = ParseClientFrame(rbuf_.get() + offset, rlen_ - offset, max_payload_);
    if (f.status == ParsedFrame::Status::kNeedMore) {
      if (f.needed > rcap_) {
        // Make room for the whole frame (bounded by max_payload_ plus a header).
        std::memmove(rbuf_.get(), rbuf_.get() + offset, rlen_ - offset);
        rlen_ -= offset;
        offset = 0;
        Reserve(f.needed);
      }
      break;
    }
    if (f.status == ParsedFrame::Status::kTooBig) {
      Fail(protocol::close_code::kMessageTooBig, "Message too big");
      break;
    }
    if (f.status == ParsedFrame::Status::kProtocolError) {
      Fail(1002, "Protocol error");
      break;
    }
    if (connection_) connection_->OnActivity(now);
    const std::string_view payload(rbuf_.get() + offset + f.header_size, f.payload_size);
    offset += f.header_size + f.payload_size;
    switch (f.opcode) {
      case opcode::kText:
      case opcode::kBinary:
        if (in_message_) {
          Fail(1002, "Protocol error");
          break;
        }
        if (f.fin) {
          HandleMessage(payload);
        } else {
          message_.assign(payload);
          in_message_ = true;
        }
        break;
      case opcode::kContinuation:
        if (!in_message_) {
          Fail(1002, "Protocol error");
          break;
        }
        if (message_.size() + payload.size() > max_payload_) {
          Fail(protocol::close_code::kMessageTooBig, "Message too big");
          break;
        }
        message_.append(payload);
        if (f.fin) {
          std::string whole = std::move(message_);
          message_ = std::string();
          in_message_ = false;
          HandleMessage(whole);
        }
        break;
      case opcode::kPing:
        if (!close_queued_)
          Enqueue(std::make_shared<const protocol::OutboundFrame>(opcode::kPong, payload));
        break;
      case opcode::kPong:
        break;
      case opcode::kClose: {
        close_received_ = true;
        if (close_queued_) {
          if (close_written_) Finish();
          break;
        }
        int code = 1000;
        if (payload.size() >= 2) {
          code = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
        }
        if (connection_) connection_->OnTransportClosed();
        Close(code >= 1000 && code < 5000 && code != 1005 && code != 1006 ? code : 1000, "");
        break;
      }
      default:
        break;
    }
  }
  // Keep the unread tail at the front; give back a buffer that grew for one large message.
  if (offset > 0) {
    std::memmove(rbuf_.get(), rbuf_.get() + offset, rlen_ - offset);
    rlen_ -= offset;
  }
  if (rcap_ > kShrinkAbove && rlen_ <= kInitialReadBuffer) {
    rcap_ = 0;
    Reserve(kInitialReadBuffer);
  }
  Uncork();
}

template <class Stream>
void WsSession<Stream>::HandleMessage(std::string_view payload) {
  if (connection_ && !close_queued_) connection_->OnMessage(payload, Clock::now());
}

template <class Stream>
void WsSession<Stream>::Fail(int code, std::string_view reason) {
  if (connection_) connection_->OnTransportClosed();
  Close(code, reason);
}

template <class Stream>
bool WsSession<Stream>::Write(const protocol::SharedFrame& frame) {
  if (close_queued_ || finished_) return true;  // nothing more goes out; not a slow consumer
  if (queued_messages_ >= max_messages_ || queued_bytes_ + frame->size() > max_bytes_) return false;
  ++queued_messages_;
  queued_bytes_ += frame->size();
  Enqueue(frame);
  return true;
}

template <class Stream>
void WsSession<Stream>::Enqueue(protocol::SharedFrame frame) {
  pending_.push_back(std::move(frame));
  if (!writing_ && corked_ == 0) StartWrite();
}

template <class Stream>
void WsSession<Stream>::Uncork() {
  if (--corked_ == 0 && !writing_ && !pending_.empty()) StartWrite();
}

template <class Stream>
void WsSession<Stream>::StartWrite() {
  writing_ = true;
  inflight_.swap(pending_);
  buffers_.clear();
  size_t total = 0;
  for (const protocol::SharedFrame& f : inflight_) {
    buffers_.emplace_back(f->wire().data(), f->wire().size());
    total += f->wire().size();
  }
  // Always asynchronous, on purpose: frames queued between this send and its completion handler
  // leave together in the next gather write. Writing synchronously when the kernel takes the
  // whole batch was measured (make bench): presence churn fell from ~7.7k to ~3.4k subscribes/s
  // because every member event then cost its own syscall.
  if (ring_ != nullptr && buffers_.size() <= kMaxRingBuffers) {
    ring_write_.total = total;
    ring_write_.keep = this->shared_from_this();
    const int fd = Lowest(stream_).native_handle();
    if (buffers_.size() == 1) {  // the common case, one event: a plain send, no msghdr to copy
      ring_->Send(fd, buffers_[0].data(), buffers_[0].size(), &ring_write_);
      return;
    }
    ring_write_.iov.resize(buffers_.size());
    for (size_t i = 0; i < buffers_.size(); ++i) {
      ring_write_.iov[i] = {const_cast<void*>(buffers_[i].data()), buffers_[i].size()};
    }
    ring_write_.msg = {};
    ring_write_.msg.msg_iov = ring_write_.iov.data();
    ring_write_.msg.msg_iovlen = ring_write_.iov.size();
    ring_->SendMsg(fd, &ring_write_.msg, &ring_write_);
    return;
  }
  AsyncWrite();
}

template <class Stream>
void WsSession<Stream>::AsyncWrite() {
  net::async_write(
      stream_, buffers_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

template <class Stream>
void WsSession<Stream>::OnRingDone(SendRing::Op* op, int result) {
  auto* write = static_cast<RingWrite*>(op);
  std::shared_ptr<WsSession> self = std::move(write->keep);
  self->OnRingWrite(result);
}

template <class Stream>
void WsSession<Stream>::OnRingWrite(int result) {
  if (result >= 0 && static_cast<size_t>(result) == ring_write_.total) {
    OnWrite({});
  } else if ((result >= 0 || result == -EAGAIN) && !finished_) {
    // The kernel took part of it (or none): Asio writes the rest when the socket has room.
    size_t skip = result > 0 ? static_cast<size_t>(result) : 0;
    size_t first = 0;
    while (first < buffers_.size() && skip >= buffers_[first].size()) {
      skip -= buffers_[first].size();
      ++first;
    }
    buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<ptrdiff_t>(first));
    if (!buffers_.empty()) buffers_.front() += skip;
    AsyncWrite();
  } else {
    OnWrite(beast::error_code(result < 0 ? -result : ECANCELED, boost::system::system_category()));
  }
}

template <class Stream>
void WsSession<Stream>::OnWrite(beast::error_code ec) {
  writing_ = false;
  bool wrote_close = false;
  for (const protocol::SharedFrame& f : inflight_) {
    if (f->opcode() == opcode::kText) {
      --queued_messages_;
      queued_bytes_ -= f->size();
    }
    wrote_close = wrote_close || f->opcode() == opcode::kClose;
  }
  inflight_.clear();
  if (inflight_.capacity() > 64) inflight_.shrink_to_fit();
  if (buffers_.capacity() > 128) buffers_ = {};
  if (ec) {
    Finish();
    return;
  }
  if (wrote_close) {
    close_written_ = true;
    if (close_received_) {
      Finish();
      return;
    }
    return;  // the client's close frame, or the close timer, finishes the session
  }
  if (!pending_.empty()) StartWrite();
}

template <class Stream>
void WsSession<Stream>::Close(int code, std::string_view reason) {
  if (close_queued_ || finished_) return;
  close_queued_ = true;
  Enqueue(
      std::make_shared<const protocol::OutboundFrame>(opcode::kClose, ClosePayload(code, reason)));
  // The handshake gets kCloseTimeout from now: a client that stopped reading (the usual reason
  // for 4100) never takes the queued bytes, and its socket must not stay open for that.
  close_timer_ = std::make_unique<net::steady_timer>(stream_.get_executor(), kCloseTimeout);
  close_timer_->async_wait([self = this->shared_from_this()](beast::error_code timer_ec) {
    if (!timer_ec) self->Finish();
  });
}

template <class Stream>
void WsSession<Stream>::Defer(std::function<void()> fn) {
  net::post(stream_.get_executor(), [self = this->shared_from_this(), fn = std::move(fn)] {
    if (!self->finished_) fn();
  });
}

template <class Stream>
void WsSession<Stream>::Finish() {
  if (finished_) return;
  finished_ = true;
  if (connection_) connection_->OnTransportClosed();
  if (close_timer_) close_timer_->cancel();
  // A send still queued must reach the kernel before its descriptor number is released, and one
  // waiting for buffer space would keep the socket open.
  if (ring_write_.queued) ring_->Cancel(&ring_write_);
  if (ring_ != nullptr) ring_->Detach(Lowest(stream_).native_handle());
  beast::error_code ignored;
  Lowest(stream_).close(ignored);
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
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
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
  parser_->body_limit(static_cast<std::uint64_t>(env_.node->config.http_api.request_limit_in_mb) *
                      1024 * 1024);
  timer_.expires_after(kHttpIdleTimeout);
  timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) {
      beast::error_code ignored;
      Lowest(self->stream_).close(ignored);
    }
  });
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
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
      const auto key_header = req.find(bhttp::field::sec_websocket_key);
      const auto version = req.find(bhttp::field::sec_websocket_version);
      if (key_header == req.end() || version == req.end() || version->value() != "13") {
        http::HttpResponse bad =
            http::Text(426, "Upgrade requires Sec-WebSocket-Key and Sec-WebSocket-Version: 13");
        bad.headers.emplace_back("Sec-WebSocket-Version", "13");
        Reply(std::move(bad), req.version(), false);
        return;
      }
      std::optional<std::string> origin;
      if (auto it = req.find(bhttp::field::origin); it != req.end())
        origin = std::string(it->value());
      const auto rest = buffer_.cdata();
      std::string leftover(static_cast<const char*>(rest.data()), rest.size());
      auto session = std::make_shared<WsSession<Stream>>(std::move(stream_), env_,
                                                         http::PercentDecode(relative->substr(5)),
                                                         std::move(origin), std::move(leftover));
      session->Start(AcceptKey(std::string(key_header->value())));
      return;
    }
  }

  http::HttpRequest request;
  request.method = std::string(req.method_string());
  request.path = path;
  if (q != std::string::npos)
    request.query = http::ParseQuery(std::string_view(target).substr(q + 1));
  request.body = std::move(req.body());
  if (auto it = req.find(bhttp::field::origin); it != req.end())
    request.origin = std::string(it->value());
  request.metrics_listener = env_.metrics_listener;
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  env_.router->Handle(request,
                      [self = this->shared_from_this(), version, keep_alive](http::HttpResponse r) {
                        net::dispatch(self->stream_.get_executor(),
                                      [self, r = std::move(r), version, keep_alive]() mutable {
                                        self->Reply(std::move(r), version, keep_alive);
                                      });
                      });
}

template <class Stream>
void HttpSession<Stream>::Reply(http::HttpResponse r, unsigned version, bool keep_alive) {
  response_ = SerializeResponse(r, version, keep_alive);
  net::async_write(stream_, net::buffer(response_),
                   [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
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

template class WsSession<TcpStream>;
template class WsSession<TlsStream>;
template class WsSession<UnixStream>;
template class HttpSession<TcpStream>;
template class HttpSession<TlsStream>;
template class HttpSession<UnixStream>;

}  // namespace sockudo::dataplane::ws
