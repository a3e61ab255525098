#include "dataplane/webhooks/webhook_targets.h"

#include <gtest/gtest.h>

namespace sockudo::dataplane::webhooks {
namespace {

WebhookTargets Targets(const std::string& json) {
  auto t = WebhookTargets::Parse(*base::ParseJson(json));
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

std::vector<std::string> Urls(const std::vector<const WebhookTarget*>& v) {
  std::vector<std::string> out;
  for (const WebhookTarget* t : v) out.push_back(t->url);
  return out;
}

TEST(WebhookTargetsTest, EventTypesSelect) {
  auto t = Targets(R"([{"url":"http://a/","event_types":["channel_occupied"]}])");
  EXPECT_TRUE(t.Wants("channel_occupied"));
  EXPECT_FALSE(t.Wants("channel_vacated"));
  EXPECT_EQ(Urls(t.Match("channel_occupied", "x")), std::vector<std::string>{"http://a/"});
  EXPECT_TRUE(t.Match("channel_vacated", "x").empty());
}

TEST(WebhookTargetsTest, FiltersAllMustHold) {
  auto t = Targets(R"([
    {"url":"http://k/","event_types":["client_event"],
     "filter":{"channel_name_starts_with":"private-","channel_name_ends_with":"-chat"}},
    {"url":"http://s/","event_types":["client_event"],
     "filter":{"channel_prefix":"presence-","channel_suffix":"room"}},
    {"url":"http://p/","event_types":["client_event"],"filter":{"channel_pattern":"^private-[0-9]+$"}},
    {"url":"http://ns/","event_types":["client_event"],"filter":{"channel_namespace":"chat"}}])");
  EXPECT_EQ(Urls(t.Match("client_event", "private-team-chat")),
            std::vector<std::string>{"http://k/"});
  EXPECT_TRUE(t.Match("client_event", "private-team").empty());
  EXPECT_EQ(Urls(t.Match("client_event", "presence-room")), std::vector<std::string>{"http://s/"});
  EXPECT_EQ(Urls(t.Match("client_event", "private-42")), std::vector<std::string>{"http://p/"});
  EXPECT_TRUE(t.Match("client_event", "chat:x").empty());
}

TEST(WebhookTargetsTest, PatternSearchesAnywhere) {
  auto t = Targets(R"([{"url":"http://p/","event_types":["channel_occupied"],
                        "filter":{"channel_pattern":"team"}}])");
  EXPECT_EQ(t.Match("channel_occupied", "private-team-1").size(), 1u);
  EXPECT_TRUE(t.Match("channel_occupied", "private-1").empty());
}

TEST(WebhookTargetsTest, InvalidPatternIsAnError) {
  auto t = WebhookTargets::Parse(*base::ParseJson(
      R"([{"url":"http://p/","event_types":["channel_occupied"],"filter":{"channel_pattern":"("}}])"));
  EXPECT_FALSE(t.ok());
}

TEST(WebhookTargetsTest, GroupedByUrlFirstHeadersWin) {
  auto t = Targets(R"([
    {"url":"http://a/","event_types":["member_added"],"headers":{"X-One":"1"}},
    {"url":"http://b/","event_types":["member_added"]},
    {"url":"http://a/","event_types":["member_added"],"headers":{"X-One":"2"}}])");
  auto m = t.Match("member_added", "presence-x");
  ASSERT_EQ(Urls(m), (std::vector<std::string>{"http://a/", "http://b/"}));
  ASSERT_EQ(m[0]->headers.size(), 1u);
  EXPECT_EQ(m[0]->headers[0].second, "1");
}

TEST(WebhookTargetsTest, LambdaWithoutUrlIgnored) {
  auto t = Targets(R"([{"lambda_function":"f","event_types":["channel_occupied"]}])");
  EXPECT_EQ(t.without_url(), 1u);
  EXPECT_FALSE(t.Wants("channel_occupied"));
}

}  // namespace
}  // namespace sockudo::dataplane::webhooks
