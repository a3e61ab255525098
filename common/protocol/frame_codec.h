// File: frame_codec.h
// RFC 6455 framing for the server side, without I/O: parses client frames (which must be masked)
// from a byte buffer and writes the headers of server frames (never masked). Pure functions,
// unit-tested on their own; the WebSocket session does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sockudo::protocol {

namespace opcode {
inline constexpr uint8_t kContinuation = 0x0;
inline constexpr uint8_t kText = 0x1;
inline constexpr uint8_t kBinary = 0x2;
inline constexpr uint8_t kClose = 0x8;
inline constexpr uint8_t kPing = 0x9;
inline constexpr uint8_t kPong = 0xA;
}  // namespace opcode

struct ParsedFrame {
  enum class Status { kNeedMore, kFrame, kProtocolError, kTooBig };
  Status status = Status::kNeedMore;
  bool fin = false;
  uint8_t opcode = 0;
  size_t header_size = 0;  // bytes before the payload
  uint64_t payload_size = 0;
  size_t needed = 0;  // with kNeedMore: total bytes the frame needs, when known (else 0)
};

// Looks at the frame at the start of `data` (`size` bytes). With kFrame the payload is unmasked
// in place: it is data[header_size .. header_size + payload_size). `max_payload` bounds one
// frame's payload.
ParsedFrame ParseClientFrame(char* data, size_t size, uint64_t max_payload);

// Writes the header of an unmasked server frame with FIN set into `out` (at least 10 bytes);
// returns its length.
size_t WriteFrameHeader(uint8_t opcode, uint64_t payload_size, uint8_t* out);

// The payload of a close frame: 2-byte code, then the reason cut to 123 bytes at a UTF-8
// boundary.
std::string ClosePayload(int code, std::string_view reason);

}  // namespace sockudo::protocol
