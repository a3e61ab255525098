#include "common/protocol/shared_frame.h"

#include "common/protocol/frame_codec.h"

namespace sockudo::protocol {

OutboundFrame::OutboundFrame(uint8_t opcode, std::string_view payload) : opcode_(opcode) {
  uint8_t header[10];
  const size_t n = opcode == kRaw ? 0 : WriteFrameHeader(opcode, payload.size(), header);
  header_size_ = static_cast<uint8_t>(n);
  bytes_.reserve(n + payload.size());
  bytes_.append(reinterpret_cast<const char*>(header), n);
  bytes_.append(payload);
}

SharedFrame MakeShared(std::string_view text) {
  return std::make_shared<const OutboundFrame>(opcode::kText, text);
}

}  // namespace sockudo::protocol
