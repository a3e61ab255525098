#include "common/protocol/shared_frame.h"

#include <gtest/gtest.h>

#include <string>

#include "common/protocol/frame_codec.h"

namespace sockudo::protocol {
namespace {

TEST(SharedFrameTest, TextFrameCarriesItsHeaderInFrontOfTheText) {
  SharedFrame f = MakeShared(R"({"event":"a"})");
  EXPECT_EQ(f->opcode(), opcode::kText);
  EXPECT_EQ(f->text(), R"({"event":"a"})");
  EXPECT_EQ(f->size(), 13u);
  ASSERT_EQ(f->wire().size(), 15u);
  EXPECT_EQ(static_cast<uint8_t>(f->wire()[0]), 0x81);  // FIN, text
  EXPECT_EQ(static_cast<uint8_t>(f->wire()[1]), 13);    // unmasked, length 13
  EXPECT_EQ(f->wire().substr(2), f->text());
}

TEST(SharedFrameTest, LongerPayloadsUseTheExtendedLengths) {
  const std::string medium(300, 'm');
  SharedFrame f = MakeShared(medium);
  ASSERT_EQ(f->wire().size(), 4 + medium.size());
  EXPECT_EQ(static_cast<uint8_t>(f->wire()[1]), 126);
  EXPECT_EQ(static_cast<uint8_t>(f->wire()[2]) << 8 | static_cast<uint8_t>(f->wire()[3]), 300);
  EXPECT_EQ(f->text(), medium);

  const std::string large(70000, 'l');
  SharedFrame g = MakeShared(large);
  ASSERT_EQ(g->wire().size(), 10 + large.size());
  EXPECT_EQ(static_cast<uint8_t>(g->wire()[1]), 127);
  EXPECT_EQ(g->size(), large.size());
  EXPECT_EQ(g->text(), large);
}

TEST(SharedFrameTest, ControlAndRawFrames) {
  OutboundFrame pong(opcode::kPong, "");
  EXPECT_EQ(pong.wire(), std::string("\x8A\x00", 2));
  EXPECT_EQ(pong.size(), 0u);

  OutboundFrame close(opcode::kClose, ClosePayload(4200, "bye"));
  EXPECT_EQ(static_cast<uint8_t>(close.wire()[0]), 0x88);
  EXPECT_EQ(close.text(), ClosePayload(4200, "bye"));

  OutboundFrame raw(OutboundFrame::kRaw, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(raw.wire(), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(raw.text(), raw.wire());
}

}  // namespace
}  // namespace sockudo::protocol
