#include "dataplane/ws/outbound_queue.h"

#include <gtest/gtest.h>

#include "common/protocol/frame_codec.h"

namespace sockudo::dataplane::ws {
namespace {

protocol::SharedFrame Text(const std::string& s) { return protocol::MakeShared(s); }
protocol::SharedFrame Pong(const std::string& payload) {
  return std::make_shared<const protocol::OutboundFrame>(protocol::opcode::kPong, payload);
}
protocol::SharedFrame CloseFrame() {
  return std::make_shared<const protocol::OutboundFrame>(protocol::opcode::kClose,
                                                         protocol::ClosePayload(4100, "x"));
}

std::vector<std::string> Texts(const std::vector<protocol::SharedFrame>& batch) {
  std::vector<std::string> out;
  for (const auto& f : batch) out.emplace_back(f->text());
  return out;
}

TEST(OutboundQueueTest, RefusesMessagesPastTheBoundAndCountsInFlightOnes) {
  OutboundQueue q({.max_messages = 2});
  EXPECT_TRUE(q.PushMessage(Text("a")));
  EXPECT_TRUE(q.PushMessage(Text("b")));
  EXPECT_FALSE(q.PushMessage(Text("c")));
  q.StartBatch();
  EXPECT_FALSE(q.PushMessage(Text("c")));  // still on their way: still counted
  q.FinishBatch();
  EXPECT_EQ(q.queued_messages(), 0u);
  EXPECT_TRUE(q.PushMessage(Text("c")));
}

TEST(OutboundQueueTest, BoundsBytesToo) {
  OutboundQueue q({.max_messages = SIZE_MAX, .max_bytes = 5});
  EXPECT_TRUE(q.PushMessage(Text("abc")));
  EXPECT_FALSE(q.PushMessage(Text("abc")));
  EXPECT_TRUE(q.PushMessage(Text("ab")));
  EXPECT_EQ(q.queued_bytes(), 5u);
}

TEST(OutboundQueueTest, OnePongWaitsAtMostAndTheNewestWins) {
  OutboundQueue q({});
  for (int i = 0; i < 100000; ++i) q.PushPong(Pong(std::to_string(i)));
  EXPECT_EQ(Texts(q.StartBatch()), std::vector<std::string>{"99999"});
  q.PushPong(Pong("during"));  // one more may wait while the first is on its way
  q.PushPong(Pong("newest"));
  q.FinishBatch();
  EXPECT_EQ(Texts(q.StartBatch()), std::vector<std::string>{"newest"});
}

TEST(OutboundQueueTest, ControlFramesPassTheBoundAndKeepTheirOrder) {
  OutboundQueue q({.max_messages = 1});
  EXPECT_TRUE(q.PushMessage(Text("m")));
  q.PushControl(Text("error"));
  q.PushControl(CloseFrame());
  const auto& batch = q.StartBatch();
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0]->text(), "m");
  EXPECT_EQ(batch[1]->text(), "error");
  EXPECT_TRUE(q.FinishBatch());  // held the close frame
}

TEST(OutboundQueueTest, DroppingKeepsTheBatchOnItsWayAndTheControlFrames) {
  OutboundQueue q({.max_messages = 100, .max_batch_bytes = 1});
  EXPECT_TRUE(q.PushMessage(Text("first")));
  EXPECT_TRUE(q.PushMessage(Text("second")));
  EXPECT_EQ(Texts(q.StartBatch()), std::vector<std::string>{"first"});
  EXPECT_TRUE(q.PushMessage(Text("third")));
  q.DropQueuedMessages();
  q.PushControl(Text("error"));
  EXPECT_FALSE(q.FinishBatch());
  EXPECT_EQ(q.queued_messages(), 0u);
  EXPECT_EQ(Texts(q.StartBatch()), std::vector<std::string>{"error"});
}

TEST(OutboundQueueTest, BatchesAreCappedInBytesButTakeAtLeastOneFrame) {
  OutboundQueue q({.max_messages = 100, .max_batch_bytes = 10});
  EXPECT_TRUE(q.PushMessage(Text(std::string(20, 'x'))));
  EXPECT_TRUE(q.PushMessage(Text("y")));
  EXPECT_EQ(q.StartBatch().size(), 1u);
  q.FinishBatch();
  EXPECT_EQ(Texts(q.StartBatch()), std::vector<std::string>{"y"});
  q.FinishBatch();
  EXPECT_FALSE(q.has_pending());
}

}  // namespace
}  // namespace sockudo::dataplane::ws
