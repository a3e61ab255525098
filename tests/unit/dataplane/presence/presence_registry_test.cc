#include "dataplane/presence/presence_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base/json.h"

namespace sockudo::dataplane::presence {
namespace {

MemberIdentity Member(std::string key, std::string id_json, std::string info = "null") {
  return {std::move(key), std::move(id_json), std::move(info)};
}

TEST(PresenceRegistryTest, OneUserOnSeveralSocketsIsOneMember) {
  PresenceRegistry r;
  auto a = r.Join("app", "presence-x", "1.1", Member("u1", R"("u1")", R"({"n":1})"), 100);
  EXPECT_TRUE(a.new_member);
  auto b = r.Join("app", "presence-x", "1.2", Member("u1", R"("u1")", R"({"n":2})"), 100);
  EXPECT_FALSE(b.new_member);
  EXPECT_EQ(r.MemberCount("app", "presence-x"), 1u);
  // Earliest socket's info wins.
  auto data = base::Json::parse(b.subscription_data);
  EXPECT_EQ(data["presence"]["count"], 1);
  EXPECT_EQ(data["presence"]["hash"]["u1"]["n"], 1);
  EXPECT_FALSE(r.Leave("app", "presence-x", "1.1", "u1").member_removed);
  auto data2 = base::Json::parse(
      r.Join("app", "presence-x", "1.2", Member("u1", R"("u1")"), 100).subscription_data);
  EXPECT_EQ(data2["presence"]["hash"]["u1"]["n"], 2);
  auto left = r.Leave("app", "presence-x", "1.2", "u1");
  EXPECT_TRUE(left.member_removed);
  EXPECT_EQ(left.user_id_json, R"("u1")");
  EXPECT_EQ(r.MemberCount("app", "presence-x"), 0u);
}

TEST(PresenceRegistryTest, NumericIdsKeepTheirTypeAndShareTheStringKey) {
  PresenceRegistry r;
  r.Join("app", "presence-x", "1.1", Member("7", "7"), 100);
  EXPECT_FALSE(r.Join("app", "presence-x", "1.2", Member("7", R"("7")"), 100).new_member);
  EXPECT_THAT(r.Members("app", "presence-x"), ::testing::ElementsAre("7"));
}

TEST(PresenceRegistryTest, LimitRefusesNewMembersOnly) {
  PresenceRegistry r;
  EXPECT_FALSE(r.Join("app", "presence-x", "1.1", Member("a", R"("a")"), 1).full);
  EXPECT_TRUE(r.Join("app", "presence-x", "1.2", Member("b", R"("b")"), 1).full);
  EXPECT_FALSE(r.Join("app", "presence-x", "1.3", Member("a", R"("a")"), 1).full);
  EXPECT_EQ(r.MemberCount("app", "presence-x"), 1u);
}

TEST(PresenceRegistryTest, AppsAreIsolated) {
  PresenceRegistry r;
  r.Join("app1", "presence-x", "1.1", Member("a", R"("a")"), 100);
  EXPECT_EQ(r.MemberCount("app2", "presence-x"), 0u);
}

}  // namespace
}  // namespace sockudo::dataplane::presence
