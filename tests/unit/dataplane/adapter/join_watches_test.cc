// JoinWatches: member frames parsed into events, recorded only for the joins watching their
// channel until they close, and folded into a member list in arrival order (spec/cluster.md §8.5).
#include "dataplane/adapter/join_watches.h"

#include <gtest/gtest.h>

#include "common/protocol/frame.h"

namespace sockudo::dataplane::adapter {
namespace {

constexpr char kRoom[] = "presence-room";

TEST(JoinWatchesTest, MemberFramesParseWithTheirKeyAndInfo) {
  auto added = JoinWatches::Parse(protocol::MemberAddedFrame(kRoom, R"("alice")", R"({"a":1})"));
  ASSERT_TRUE(added.has_value());
  EXPECT_TRUE(added->added);
  EXPECT_EQ(added->key, "alice");
  EXPECT_EQ(added->info.user_id_json, R"("alice")");
  EXPECT_EQ(added->info.user_info_json, R"({"a":1})");

  auto removed = JoinWatches::Parse(protocol::MemberRemovedFrame(kRoom, "42"));
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(removed->added);
  EXPECT_EQ(removed->key, "42");
  EXPECT_EQ(removed->info.user_id_json, "42");

  EXPECT_FALSE(JoinWatches::Parse(protocol::ChannelEventFrame("ev", kRoom, "{}")).has_value());
  EXPECT_FALSE(JoinWatches::Parse(R"({"event":"pusher_internal:member_added","data":"{}"})"));
  EXPECT_FALSE(JoinWatches::Parse("pusher_internal:member_added{").has_value());
}

TEST(JoinWatchesTest, EventsGoToTheJoinsOfTheirChannelUntilClosed) {
  JoinWatches w;
  EXPECT_FALSE(w.Any());
  const auto room = w.Open("app", kRoom);
  const auto other = w.Open("app", "presence-other");
  const auto other_app = w.Open("app-2", kRoom);
  EXPECT_TRUE(w.Any());
  auto e = *JoinWatches::Parse(protocol::MemberAddedFrame(kRoom, R"("bob")", "null"));
  w.Record("app", kRoom, e);
  ASSERT_EQ(w.Take(room).size(), 1u);
  EXPECT_TRUE(w.Take(room).empty());  // taken once
  EXPECT_TRUE(w.Take(other).empty());
  EXPECT_TRUE(w.Take(other_app).empty());
  w.Close(other);
  w.Close(other_app);
  EXPECT_TRUE(w.Any());  // `room` still watches until closed
  w.Record("app", kRoom, e);
  EXPECT_EQ(w.Take(room).size(), 1u);
  w.Close(room);
  EXPECT_FALSE(w.Any());
  w.Record("app", kRoom, e);  // nobody watches: dropped
  EXPECT_TRUE(w.Take(room).empty());
}

TEST(JoinWatchesTest, EventsApplyInOrderAndLocalMembersStay) {
  presence::MemberMap members{{"carol", {R"("carol")", "null"}}, {"me", {R"("me")", "null"}}};
  std::vector<JoinWatches::Event> heard;
  for (const std::string& f :
       {protocol::MemberAddedFrame(kRoom, R"("bob")", R"({"n":1})"),
        protocol::MemberRemovedFrame(kRoom, R"("carol")"),
        protocol::MemberRemovedFrame(kRoom, R"("me")"),  // still joined here
        protocol::MemberAddedFrame(kRoom, R"("dave")", "null"),
        protocol::MemberRemovedFrame(kRoom, R"("dave")")}) {
    heard.push_back(*JoinWatches::Parse(f));
  }
  JoinWatches::Apply(heard, members, [](const std::string& key) { return key == "me"; });
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members.at("bob").user_info_json, R"({"n":1})");
  EXPECT_TRUE(members.count("me"));
}

}  // namespace
}  // namespace sockudo::dataplane::adapter
