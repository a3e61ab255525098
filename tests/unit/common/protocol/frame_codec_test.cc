#include "common/protocol/frame_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace sockudo::protocol {
namespace {

// A masked client frame as a browser would send it.
std::string ClientFrame(uint8_t op, const std::string& payload, bool fin = true,
                        uint32_t mask = 0x37fa213d) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | op));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  const uint8_t m[4] = {static_cast<uint8_t>(mask >> 24), static_cast<uint8_t>(mask >> 16),
                        static_cast<uint8_t>(mask >> 8), static_cast<uint8_t>(mask)};
  out.append(reinterpret_cast<const char*>(m), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ m[i & 3]));
  return out;
}

TEST(FrameCodecTest, ParsesAndUnmasksFramesOfEveryLengthForm) {
  for (size_t size : {0u, 5u, 125u, 126u, 65535u, 65536u, 100000u}) {
    std::string payload(size, 'x');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string wire = ClientFrame(opcode::kText, payload);
    ParsedFrame f = ParseClientFrame(wire.data(), wire.size(), 1 << 20);
    ASSERT_EQ(f.status, ParsedFrame::Status::kFrame) << size;
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.opcode, opcode::kText);
    EXPECT_EQ(f.payload_size, size);
    EXPECT_EQ(wire.substr(f.header_size, size), payload);
  }
}

TEST(FrameCodecTest, AsksForMoreUntilTheFrameIsComplete) {
  std::string wire = ClientFrame(opcode::kText, std::string(300, 'a'));
  for (size_t n = 0; n < wire.size(); ++n) {
    std::string part = wire.substr(0, n);
    EXPECT_EQ(ParseClientFrame(part.data(), part.size(), 1 << 20).status,
              ParsedFrame::Status::kNeedMore)
        << n;
  }
  std::string part = wire.substr(0, 10);
  EXPECT_EQ(ParseClientFrame(part.data(), part.size(), 1 << 20).needed, wire.size());
}

TEST(FrameCodecTest, RejectsWhatRfc6455Forbids) {
  std::string unmasked = "\x81\x02hi";
  EXPECT_EQ(ParseClientFrame(unmasked.data(), unmasked.size(), 100).status,
            ParsedFrame::Status::kProtocolError);
  std::string rsv = ClientFrame(opcode::kText, "x");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  EXPECT_EQ(ParseClientFrame(rsv.data(), rsv.size(), 100).status,
            ParsedFrame::Status::kProtocolError);
  std::string reserved = ClientFrame(0x3, "x");
  EXPECT_EQ(ParseClientFrame(reserved.data(), reserved.size(), 100).status,
            ParsedFrame::Status::kProtocolError);
  std::string fragmented_ping = ClientFrame(opcode::kPing, "x", false);
  EXPECT_EQ(ParseClientFrame(fragmented_ping.data(), fragmented_ping.size(), 100).status,
            ParsedFrame::Status::kProtocolError);
  std::string long_ping = ClientFrame(opcode::kPing, std::string(126, 'p'));
  EXPECT_EQ(ParseClientFrame(long_ping.data(), long_ping.size(), 1000).status,
            ParsedFrame::Status::kProtocolError);
  std::string big = ClientFrame(opcode::kText, std::string(101, 'b'));
  EXPECT_EQ(ParseClientFrame(big.data(), 4, 100).status,
            ParsedFrame::Status::kTooBig);  // known from the header alone
}

TEST(FrameCodecTest, ServerHeadersAreUnmaskedWithMinimalLength) {
  uint8_t h[10];
  ASSERT_EQ(WriteFrameHeader(opcode::kText, 5, h), 2u);
  EXPECT_EQ(h[0], 0x81);
  EXPECT_EQ(h[1], 5);
  ASSERT_EQ(WriteFrameHeader(opcode::kText, 126, h), 4u);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ((h[2] << 8) | h[3], 126);
  ASSERT_EQ(WriteFrameHeader(opcode::kClose, 70000, h), 10u);
  EXPECT_EQ(h[0], 0x88);
  EXPECT_EQ(h[1], 127);
  EXPECT_EQ((h[7] << 16) | (h[8] << 8) | h[9], 70000);
}

TEST(FrameCodecTest, ClosePayload) {
  EXPECT_EQ(ClosePayload(4001, "x"), std::string("\x0F\xA1x", 3));
  const std::string cut =
      ClosePayload(1000, std::string(122, 'a') + "\xC3\xA9");  // é straddles byte 123
  EXPECT_EQ(cut.size(), 2u + 122u);
}

}  // namespace
}  // namespace sockudo::protocol
