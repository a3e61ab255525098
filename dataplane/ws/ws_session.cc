// WsSession, instantiated here for the three stream types.
#include "dataplane/ws/ws_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "common/base/json.h"
#include "common/protocol/close_codes.h"
#include "common/protocol/frame_codec.h"
#include "dataplane/connection/admission.h"
#include "dataplane/ws/stream_types.h"

namespace sockudo::dataplane::ws {

namespace net = boost::asio;
namespace cc = protocol::close_code;
namespace opcode = protocol::opcode;
using Clock = std::chrono::steady_clock;
using protocol::ParsedFrame;

namespace {

constexpr size_t kInitialReadBuffer = 256;
constexpr auto kCloseTimeout = std::chrono::seconds(5);

OutboundQueue::Limits QueueLimits(const config::WebSocketBufferConfig& limits) {
  OutboundQueue::Limits out;
  out.max_messages = limits.max_messages.has_value() ? static_cast<size_t>(*limits.max_messages)
                     : limits.max_bytes.has_value()  ? SIZE_MAX
                                                     : 1000;
  out.max_bytes = limits.max_bytes.has_value() ? static_cast<size_t>(*limits.max_bytes) : SIZE_MAX;
  return out;
}

// Close codes a peer may send (RFC 6455 §7.4, with the IANA registrations 1012-1014).
bool ValidReceivedCloseCode(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

template <class Stream>
WsSession<Stream>::WsSession(Stream&& stream, SessionEnv env, std::string app_key,
                             std::optional<std::string> origin, std::string_view leftover)
    : stream_(std::move(stream)),
      env_(env),
      app_key_(std::move(app_key)),
      origin_(std::move(origin)),
      outbound_(QueueLimits(env.node->config.websocket)) {
  max_payload_ = static_cast<uint64_t>(env_.node->config.websocket_max_payload_kb) * 1024;
  if constexpr (!kIsTls<Stream>) ring_ = env_.send_ring;
  if (ring_ != nullptr) ring_->Attach(Lowest(stream_).native_handle());
  ring_write_.done = &WsSession::OnRingDone;
  // The upgrade request's parser read at most its own buffer, so `leftover` is small; still
  // charged like any growth.
  rcap_ = std::max(kInitialReadBuffer, leftover.size());
  rbuf_ = std::make_unique<char[]>(rcap_);
  std::memcpy(rbuf_.get(), leftover.data(), leftover.size());
  rlen_ = leftover.size();
  env_.node->live_websockets.fetch_add(1);
}

template <class Stream>
WsSession<Stream>::~WsSession() {
  connection_.reset();
  env_.node->outbound_messages.Add(env_.worker->id, -counted_messages_);
  env_.node->outbound_bytes.Add(env_.worker->id, -counted_bytes_);
  env_.node->inbound_buffers.Release(charged_);
  env_.node->live_websockets.fetch_sub(1);
}

template <class Stream>
bool WsSession<Stream>::Settle() {
  const size_t held = (rcap_ > kInitialReadBuffer ? rcap_ - kInitialReadBuffer : 0) +
                      (in_message_ ? message_.capacity() : 0);
  if (held > charged_) {
    if (!env_.node->inbound_buffers.TryCharge(held - charged_)) return false;
  } else {
    env_.node->inbound_buffers.Release(charged_ - held);
  }
  charged_ = held;
  return true;
}

template <class Stream>
bool WsSession<Stream>::ResizeReadBuffer(size_t capacity) {
  const size_t old = rcap_;
  rcap_ = capacity;
  if (!Settle()) {
    rcap_ = old;
    return false;
  }
  auto resized = std::make_unique<char[]>(capacity);
  if (rlen_ > 0) std::memcpy(resized.get(), rbuf_.get(), rlen_);
  rbuf_ = std::move(resized);
  return true;
}

template <class Stream>
void WsSession<Stream>::Start(const std::string& accept_key) {
  ++corked_;  // the 101 and the first frame leave together
  outbound_.PushControl(std::make_shared<const protocol::OutboundFrame>(
      protocol::OutboundFrame::kRaw,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Server: sockudo\r\nSec-WebSocket-Accept: " +
          accept_key + "\r\n\r\n"));
  // Admission may ask the other nodes (the app quota counts the cluster): nothing is read until
  // it has answered. The answer comes back on this session's thread.
  connection::Admit(*env_.node, app_key_, origin_,
                    [self = this->shared_from_this()](connection::Admission admission) {
                      auto executor = self->stream_.get_executor();
                      net::dispatch(executor, [self = std::move(self),
                                               admission = std::move(admission)]() mutable {
                        self->OnAdmitted(std::move(admission));
                      });
                    });
}

template <class Stream>
void WsSession<Stream>::OnAdmitted(connection::Admission admission) {
  if (auto* refused = std::get_if<connection::Refused>(&admission)) {
    Close(refused->code, refused->message,
          protocol::MakeShared(protocol::ErrorFrame(refused->code, refused->message)));
  } else if (!finished_) {
    auto& admitted = std::get<connection::Admitted>(admission);
    connection_ = std::make_unique<connection::Connection>(
        *env_.node, *env_.worker, std::move(admitted.app), std::move(admitted.socket_id), *this);
    connection_->Open(Clock::now());
  } else {
    // Admitted after the session ended: give the slot back.
    auto& admitted = std::get<connection::Admitted>(admission);
    env_.node->connections.Release(admitted.app->id, admitted.socket_id);
  }
  Uncork();
  if (rlen_ > 0) ProcessFrames();
  if (!finished_) DoRead();
}

template <class Stream>
void WsSession<Stream>::DoRead() {
  if (failed_) rlen_ = 0;  // after a protocol error, what arrives is drained, never parsed
  if (rlen_ == rcap_) {
    // Grow with what arrives: double, but never past the frame being received.
    size_t capacity = rcap_ * 2;
    if (frame_needed_ > rcap_) capacity = std::min(capacity, frame_needed_);
    if (!ResizeReadBuffer(capacity)) return FailOverBudget();
  }
  reading_ = true;
  stream_.async_read_some(
      net::buffer(rbuf_.get() + rlen_, rcap_ - rlen_),
      [self = this->shared_from_this()](boost::system::error_code ec, size_t bytes) {
        self->OnRead(ec, bytes);
      });
}

template <class Stream>
void WsSession<Stream>::OnRead(boost::system::error_code ec, size_t bytes) {
  reading_ = false;
  if (ec || finished_) {
    Finish();
    ReleaseReadSide();
    return;
  }
  rlen_ += bytes;
  if (!failed_) ProcessFrames();
  if (!finished_) DoRead();
}

template <class Stream>
void WsSession<Stream>::ProcessFrames() {
  ++corked_;  // answers to every frame of this read leave in one write
  size_t offset = 0;
  frame_needed_ = 0;
  const auto now = Clock::now();
  while (!finished_ && !close_received_) {
    ParsedFrame f = protocol::ParseClientFrame(rbuf_.get() + offset, rlen_ - offset, max_payload_);
    if (f.status == ParsedFrame::Status::kNeedMore) {
      frame_needed_ = f.needed;
      break;
    }
    if (f.status == ParsedFrame::Status::kTooBig) {
      Fail(cc::kMessageTooBig, "Message too big");
      break;
    }
    if (f.status == ParsedFrame::Status::kProtocolError) {
      Fail(cc::kProtocolError, "Protocol error");
      break;
    }
    if (connection_) connection_->OnActivity(now);
    const std::string_view payload(rbuf_.get() + offset + f.header_size, f.payload_size);
    offset += f.header_size + f.payload_size;
    switch (f.opcode) {
      case opcode::kText:
      case opcode::kBinary:
        if (in_message_) {
          Fail(cc::kProtocolError, "Protocol error");
          break;
        }
        if (f.fin) {
          HandleMessage(payload, f.opcode == opcode::kText);
          break;
        }
        in_message_ = true;
        message_text_ = f.opcode == opcode::kText;
        message_.assign(payload);
        if (!Settle()) FailOverBudget();
        break;
      case opcode::kContinuation:
        if (!in_message_) {
          Fail(cc::kProtocolError, "Protocol error");
          break;
        }
        if (message_.size() + payload.size() > max_payload_) {
          Fail(cc::kMessageTooBig, "Message too big");
          break;
        }
        message_.append(payload);
        if (!Settle()) {
          FailOverBudget();
          break;
        }
        if (f.fin) {
          std::string whole = std::move(message_);
          message_ = std::string();
          in_message_ = false;
          Settle();
          HandleMessage(whole, message_text_);
        }
        break;
      case opcode::kPing:
        if (!close_queued_) {
          outbound_.PushPong(
              std::make_shared<const protocol::OutboundFrame>(opcode::kPong, payload));
          Kick();
        }
        break;
      case opcode::kPong:
        break;
      case opcode::kClose:
        OnClientClose(payload);
        break;
      default:
        break;
    }
  }
  // Keep the unread tail at the front; give back a buffer that grew for one large message.
  // (A finished session has released its buffer already.)
  if (offset > 0 && rbuf_ != nullptr) {
    std::memmove(rbuf_.get(), rbuf_.get() + offset, rlen_ - offset);
    rlen_ -= offset;
  }
  if (rcap_ > kInitialReadBuffer && rlen_ <= kInitialReadBuffer) {
    ResizeReadBuffer(kInitialReadBuffer);
  }
  Uncork();
}

template <class Stream>
void WsSession<Stream>::OnClientClose(std::string_view payload) {
  close_received_ = true;
  if (close_queued_) {
    if (close_written_) Finish();
    return;
  }
  // RFC 6455 §5.5.1, §7.4: an empty payload or a valid code (echoed) with a UTF-8 reason.
  int reply = 1000;
  if (payload.size() == 1) {
    reply = cc::kProtocolError;
  } else if (payload.size() >= 2) {
    const int code = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
    if (!ValidReceivedCloseCode(code)) {
      reply = cc::kProtocolError;
    } else if (!base::IsValidUtf8(payload.substr(2))) {
      reply = cc::kInvalidPayload;
    } else {
      reply = code;
    }
  }
  if (connection_) connection_->OnTransportClosed();
  Close(reply, "", nullptr);
}

template <class Stream>
void WsSession<Stream>::HandleMessage(std::string_view payload, bool text) {
  if (!connection_ || close_queued_) return;
  // Text must be UTF-8 (RFC 6455 §8.1). A binary frame is read like text; bytes that are not
  // UTF-8 JSON then get the "Invalid JSON" error of a malformed message.
  if (text && !base::IsValidUtf8(payload)) return Fail(cc::kInvalidPayload, "Invalid UTF-8");
  connection_->OnMessage(payload, Clock::now());
}

template <class Stream>
void WsSession<Stream>::Fail(int code, std::string_view reason) {
  if (connection_) connection_->OnTransportClosed();
  Close(code, reason, nullptr);
  failed_ = true;
}

template <class Stream>
void WsSession<Stream>::FailOverBudget() {
  if (connection_) {
    connection_->CloseWithError(cc::kOverCapacity, protocol::close_message::kOverCapacity);
  } else {
    Close(cc::kOverCapacity, protocol::close_message::kOverCapacity, nullptr);
  }
  // Nothing more is read: the close handshake ends on our close timer.
  in_message_ = false;
  message_ = std::string();
  Settle();
}

template <class Stream>
bool WsSession<Stream>::Write(const protocol::SharedFrame& frame) {
  if (close_queued_ || finished_) return true;  // nothing more goes out; not a slow consumer
  if (!outbound_.PushMessage(frame)) return false;
  CountQueue();
  Kick();
  return true;
}

template <class Stream>
void WsSession<Stream>::DiscardQueued() {
  outbound_.DropQueuedMessages();
  CountQueue();
}

template <class Stream>
void WsSession<Stream>::CountQueue() {
  const auto messages = static_cast<int64_t>(outbound_.queued_messages());
  const auto bytes = static_cast<int64_t>(outbound_.queued_bytes());
  env_.node->outbound_messages.Add(env_.worker->id, messages - counted_messages_);
  env_.node->outbound_bytes.Add(env_.worker->id, bytes - counted_bytes_);
  counted_messages_ = messages;
  counted_bytes_ = bytes;
}

template <class Stream>
void WsSession<Stream>::Kick() {
  if (corked_ == 0 && !outbound_.writing() && outbound_.has_pending()) StartWrite();
}

template <class Stream>
void WsSession<Stream>::Uncork() {
  --corked_;
  Kick();
}

template <class Stream>
void WsSession<Stream>::StartWrite() {
  const std::vector<protocol::SharedFrame>& batch = outbound_.StartBatch();
  buffers_.clear();
  size_t total = 0;
  for (const protocol::SharedFrame& f : batch) {
    buffers_.emplace_back(f->wire().data(), f->wire().size());
    total += f->wire().size();
  }
  // Always asynchronous, on purpose: frames queued between this send and its completion handler
  // leave together in the next gather write. Writing synchronously when the kernel takes the
  // whole batch was measured (make bench): presence churn fell from ~7.7k to ~3.4k subscribes/s
  // because every member event then cost its own syscall.
  if (ring_ != nullptr) {
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
  net::async_write(stream_, buffers_,
                   [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                     self->OnWrite(ec);
                   });
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
    OnWrite(boost::system::error_code(result < 0 ? -result : ECANCELED,
                                      boost::system::system_category()));
  }
}

template <class Stream>
void WsSession<Stream>::OnWrite(boost::system::error_code ec) {
  const bool wrote_close = outbound_.FinishBatch();
  CountQueue();
  if (buffers_.capacity() > 128) buffers_ = {};
  if (ec) {
    Finish();
    return;
  }
  if (wrote_close) {
    close_written_ = true;
    // The client's close frame, or the close timer, finishes the session.
    if (close_received_) return Finish();
    if (failed_) {
      // RFC 6455 §7.1.7: after failing, close without waiting for the client's close frame
      // (it could not be read behind the failing bytes). Half-close first and drain until the
      // client closes too: closing with unread input would send a reset that can destroy the
      // close frame before the client reads it.
      if constexpr (kIsTls<Stream>) return Finish();
      boost::system::error_code ignored;
      Lowest(stream_).shutdown(net::socket_base::shutdown_send, ignored);
    }
    return;
  }
  Kick();
}

template <class Stream>
void WsSession<Stream>::Close(int code, std::string_view reason, protocol::SharedFrame farewell) {
  if (close_queued_ || finished_) return;
  close_queued_ = true;
  if (farewell) outbound_.PushControl(std::move(farewell));
  outbound_.PushControl(std::make_shared<const protocol::OutboundFrame>(
      opcode::kClose, protocol::ClosePayload(code, reason)));
  Kick();
  // The handshake gets kCloseTimeout from now: a client that stopped reading (the usual reason
  // for 4100) may never take the queued bytes, and its socket must not stay open for that.
  close_timer_ = std::make_unique<net::steady_timer>(stream_.get_executor(), kCloseTimeout);
  close_timer_->async_wait([self = this->shared_from_this()](boost::system::error_code timer_ec) {
    if (!timer_ec) self->Finish();
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
  boost::system::error_code ignored;
  Lowest(stream_).close(ignored);
  // Give the read buffer back now (the session may live on until its last handler runs), unless
  // a read still owns it: a TLS read can copy into it when its completion runs.
  if (!reading_) ReleaseReadSide();
}

template <class Stream>
void WsSession<Stream>::ReleaseReadSide() {
  in_message_ = false;
  message_ = std::string();
  rlen_ = 0;
  rcap_ = 0;
  rbuf_.reset();
  Settle();
}

template class WsSession<TcpStream>;
template class WsSession<TlsStream>;
template class WsSession<UnixStream>;

}  // namespace sockudo::dataplane::ws
