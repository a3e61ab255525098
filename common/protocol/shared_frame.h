// File: shared_frame.h
// One outbound message as it goes on the wire: the payload (the text of a Pusher frame, or a
// control frame's body) behind its RFC 6455 header, built once and shared by every recipient.
// A broadcast to N sockets then hands the kernel the same contiguous bytes N times: one plain
// send per socket, with no per-recipient header or gather list.
//
//   SharedFrame f = MakeShared(ChannelEventFrame("order.created", "orders", "{\"id\":1}"));
//   f->text();  // the JSON
//   f->wire();  // 0x81, length, JSON
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sockudo::protocol {

class OutboundFrame {
 public:
  // Bytes written as they are, with no WebSocket header (the 101 response).
  static constexpr uint8_t kRaw = 0xFF;

  // `opcode` is a WebSocket opcode (text, close, pong) or kRaw.
  OutboundFrame(uint8_t opcode, std::string_view payload);

  uint8_t opcode() const { return opcode_; }
  std::string_view text() const { return std::string_view(bytes_).substr(header_size_); }
  std::string_view wire() const { return bytes_; }
  // The payload size: what the bounded outbound queue and the byte counters count.
  size_t size() const { return bytes_.size() - header_size_; }

 private:
  std::string bytes_;
  uint8_t header_size_;
  uint8_t opcode_;
};

using SharedFrame = std::shared_ptr<const OutboundFrame>;

// A text frame carrying `text`.
SharedFrame MakeShared(std::string_view text);

}  // namespace sockudo::protocol
