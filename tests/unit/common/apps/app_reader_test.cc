#include "common/apps/app_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace sockudo::apps {
namespace {

using base::Json;

TEST(AppReaderTest, FlatFormWithDefaults) {
  auto app = ReadApp(Json::parse(R"({"id":"a","key":"k","secret":"s"})"));
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_TRUE(app->enabled);
  EXPECT_FALSE(app->enable_client_messages);
  LimitDefaults d;
  EXPECT_EQ(app->ChannelNameLimit(d), 164u);
  EXPECT_EQ(app->EventPayloadLimitBytes(d), 100u * 1024);
  EXPECT_EQ(app->PresenceMemberSizeLimitBytes(d), 2048u);
}

TEST(AppReaderTest, PolicyFormAndAliases) {
  auto app = ReadApp(Json::parse(R"({"id":"a","key":"k","secret":"s","max_connections":9,
      "policy":{"limits":{"max_connections":"3","max_event_payload_in_kb":0.5},
                "features":{"enable_client_messages":true},
                "channels":{"allowed_origins":["*.example.com"]}}})"));
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->max_connections, 3);
  EXPECT_EQ(app->EventPayloadLimitBytes({}), 512u);
  EXPECT_TRUE(app->enable_client_messages);
  ASSERT_TRUE(app->allowed_origins.has_value());

  auto aliased =
      ReadApp(Json::parse(R"({"AppId":"x","AppKey":"y","AppSecret":"z","maxConnections":7,
      "max_connections":8,"maxEventBatchSize":"","Webhooks":"[{\"url\":\"http://h\",\"event_types\":[\"channel_occupied\"]}]"})"));
  ASSERT_TRUE(aliased.ok()) << aliased.status();
  EXPECT_EQ(aliased->id, "x");
  EXPECT_EQ(aliased->max_connections, 8);                   // snake_case wins
  EXPECT_FALSE(aliased->max_event_batch_size.has_value());  // empty string = absent
  EXPECT_TRUE(aliased->webhooks.is_array());
}

TEST(AppReaderTest, ErrorsNameTheField) {
  auto expect_error = [](const char* json, const char* field) {
    auto app = ReadApp(Json::parse(json));
    ASSERT_FALSE(app.ok()) << json;
    EXPECT_THAT(std::string(app.status().message()), ::testing::StartsWith(field));
  };
  expect_error(R"({"key":"k","secret":"s"})", "id: required");
  expect_error(R"({"id":"a","key":"k","secret":"s","max_connections":"lots"})", "max_connections");
  expect_error(R"({"id":"a","key":"k","secret":"s","enabled":"perhaps"})", "enabled");
  expect_error(R"({"id":"a","key":"k","secret":"s","allowed_origins":["a*b*"]})",
               "allowed_origins: invalid pattern");
  expect_error(R"({"id":"a/b","key":"k","secret":"s"})", "id");
  expect_error(R"({"id":"a","key":"k","secret":"s","webhooks":[{"url":"x"}]})", "webhooks");
  // A webhook that could never be delivered is refused when the app is written, not retried for
  // minutes on every event: a URL that is not http(s) with a host, a channel_pattern that does
  // not compile.
  const std::string types = R"("event_types":["channel_occupied"])";
  for (const char* url : {R"("ftp://h/x")", R"("http://")", R"("http:///path")", R"("h/x")", "3"}) {
    const std::string json = absl::StrCat(R"({"id":"a","key":"k","secret":"s","webhooks":[{"url":)",
                                          url, ",", types, "}]}");
    expect_error(json.c_str(), "webhooks: url must be an http:// or https:// URL with a host");
  }
  expect_error(R"({"id":"a","key":"k","secret":"s","webhooks":[{"url":"http://h",
      "event_types":["channel_occupied"],"filter":{"channel_pattern":"(unclosed"}}]})",
               "webhooks: invalid channel_pattern \"(unclosed\"");
  auto fine = ReadApp(Json::parse(R"({"id":"a","key":"k","secret":"s","webhooks":[
      {"url":"https://user:pw@example.com:8443/hook?x=1","event_types":["member_added"],
       "filter":{"channel_pattern":"^presence-room-[0-9]+$"}}]})"));
  EXPECT_TRUE(fine.ok()) << fine.status();
}

}  // namespace
}  // namespace sockudo::apps
