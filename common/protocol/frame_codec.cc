#include "common/protocol/frame_codec.h"

#include <cstring>

namespace sockudo::protocol {

ParsedFrame ParseClientFrame(char* data, size_t size, uint64_t max_payload) {
  ParsedFrame f;
  if (size < 2) return f;
  const auto b0 = static_cast<uint8_t>(data[0]);
  const auto b1 = static_cast<uint8_t>(data[1]);
  f.fin = (b0 & 0x80) != 0;
  f.opcode = b0 & 0x0F;
  const bool masked = (b1 & 0x80) != 0;
  uint64_t len = b1 & 0x7F;
  size_t header = 2;
  if ((b0 & 0x70) != 0 || !masked) {  // no extension was negotiated; clients must mask
    f.status = ParsedFrame::Status::kProtocolError;
    return f;
  }
  const bool control = (f.opcode & 0x8) != 0;
  const bool known = f.opcode <= opcode::kBinary || f.opcode == opcode::kClose ||
                     f.opcode == opcode::kPing || f.opcode == opcode::kPong;
  if (!known || (control && (!f.fin || len > 125))) {
    f.status = ParsedFrame::Status::kProtocolError;
    return f;
  }
  if (len == 126) {
    if (size < 4) return f;
    len =
        (static_cast<uint64_t>(static_cast<uint8_t>(data[2])) << 8) | static_cast<uint8_t>(data[3]);
    header = 4;
  } else if (len == 127) {
    if (size < 10) return f;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<uint8_t>(data[i]);
    header = 10;
    if (len >> 63) {
      f.status = ParsedFrame::Status::kProtocolError;
      return f;
    }
  }
  if (len > max_payload) {
    f.status = ParsedFrame::Status::kTooBig;
    return f;
  }
  header += 4;  // masking key
  f.header_size = header;
  f.payload_size = len;
  if (size < header + len) {
    f.needed = header + len;
    return f;
  }
  const unsigned char* mask = reinterpret_cast<const unsigned char*>(data + header - 4);
  char* payload = data + header;
  for (uint64_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
  f.status = ParsedFrame::Status::kFrame;
  return f;
}

size_t WriteFrameHeader(uint8_t op, uint64_t size, uint8_t* out) {
  out[0] = static_cast<uint8_t>(0x80 | op);
  if (size < 126) {
    out[1] = static_cast<uint8_t>(size);
    return 2;
  }
  if (size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(size >> 8);
    out[3] = static_cast<uint8_t>(size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(size >> (8 * (7 - i)));
  return 10;
}

std::string ClosePayload(int code, std::string_view reason) {
  size_t n = std::min<size_t>(reason.size(), 123);
  while (n > 0 && n < reason.size() && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
  std::string out;
  out.push_back(static_cast<char>((code >> 8) & 0xFF));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason.substr(0, n));
  return out;
}

}  // namespace sockudo::protocol
