// Fuzz target: the RFC 6455 frame decoder (protocol/frame_codec.h) over arbitrary bytes, walked
// frame by frame as a session reads them, with a small and a large payload bound. Also checks
// the invariants a session relies on: a decoded frame lies inside the input, a control frame is
// final and at most 125 bytes, kNeedMore never asks for fewer bytes than it was given.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/protocol/frame_codec.h"

namespace {

using sockudo::protocol::ParseClientFrame;
using sockudo::protocol::ParsedFrame;

void Walk(std::string bytes, uint64_t max_payload) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    const size_t left = bytes.size() - offset;
    ParsedFrame f = ParseClientFrame(bytes.data() + offset, left, max_payload);
    if (f.status == ParsedFrame::Status::kNeedMore) {
      if (f.needed != 0 && f.needed <= left) std::abort();
      return;
    }
    if (f.status != ParsedFrame::Status::kFrame) return;
    if (f.payload_size > max_payload || f.header_size + f.payload_size > left) std::abort();
    if ((f.opcode & 0x8) != 0 && (!f.fin || f.payload_size > 125)) std::abort();
    offset += f.header_size + f.payload_size;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Walk(bytes, 64);
  Walk(bytes, 10 * 1024 * 1024);
  return 0;
}
