#include "dataplane/http/request_auth.h"

#include <gtest/gtest.h>

#include "common/apps/memory/memory_app_store.h"
#include "common/crypto/hmac.h"
#include "common/crypto/pusher_signature.h"

namespace sockudo::dataplane::http {
namespace {

constexpr int64_t kNow = 1700000000;

class RequestAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apps::App enabled = apps::DefaultApp();
    apps::App disabled = apps::DefaultApp();
    disabled.id = "off";
    disabled.key = "off-key";
    disabled.enabled = false;
    store_ = *apps::MemoryAppStore::Create({enabled, disabled});
  }

  HttpRequest Signed(std::string method, std::string path, std::string body, int64_t ts = kNow,
                     std::string key = "app-key", std::string secret = "app-secret") {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.query = {{"auth_key", key}, {"auth_timestamp", std::to_string(ts)}, {"auth_version", "1.0"}};
    if (!r.body.empty()) r.query.emplace_back("body_md5", crypto::Md5Hex(r.body));
    r.query.emplace_back("auth_signature",
                         crypto::SignHttpRequest(secret, r.method, r.path, r.query));
    return r;
  }

  int Status(const HttpRequest& r, const std::string& app_id) {
    auto result = AuthenticateRequest(store_->FindById(app_id), r, app_id, kNow);
    if (std::holds_alternative<Authenticated>(result)) return 200;
    return std::get<HttpResponse>(result).status;
  }

  std::unique_ptr<apps::MemoryAppStore> store_;
};

TEST_F(RequestAuthTest, AcceptsSignedRequests) {
  EXPECT_EQ(Status(Signed("POST", "/apps/app-id/events", R"({"name":"a"})"), "app-id"), 200);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", ""), "app-id"), 200);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", "", kNow - 599), "app-id"), 200);
}

TEST_F(RequestAuthTest, FailuresInSpecOrder) {
  EXPECT_EQ(Status(Signed("GET", "/apps/nope/channels", ""), "nope"), 404);
  HttpRequest missing = Signed("GET", "/apps/app-id/channels", "");
  missing.query.pop_back();
  EXPECT_EQ(Status(missing, "app-id"), 401);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", "", kNow, "off-key"), "app-id"), 401);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", "", kNow - 601), "app-id"), 401);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", "", kNow + 601), "app-id"), 401);
  HttpRequest tampered = Signed("POST", "/apps/app-id/events", R"({"name":"a"})");
  tampered.body = R"({"name":"b"})";
  EXPECT_EQ(Status(tampered, "app-id"), 401);
  EXPECT_EQ(Status(Signed("GET", "/apps/app-id/channels", "", kNow, "app-key", "wrong"), "app-id"),
            401);
  EXPECT_EQ(Status(Signed("GET", "/apps/off/channels", "", kNow, "off-key"), "off"), 403);
  EXPECT_EQ(Status(Signed("POST", "/apps/app-id/events", "[1]"), "app-id"), 400);
  EXPECT_EQ(Status(Signed("POST", "/apps/app-id/events", "{nope"), "app-id"), 400);
}

TEST_F(RequestAuthTest, ErrorBodyShape) {
  auto result =
      AuthenticateRequest(store_->FindById("x"), Signed("GET", "/apps/x/channels", ""), "x", kNow);
  const auto& r = std::get<HttpResponse>(result);
  EXPECT_EQ(r.body, R"({"error":"The app x could not be found.","code":404})");
  EXPECT_EQ(r.content_type, "application/json");
}

TEST(QueryParsingTest, DecodesAndKeepsPlus) {
  auto q = ParseQuery("a=1&b=x%2Fy&c=1+2&flag&d=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[1].second, "x/y");
  EXPECT_EQ(q[2].second, "1+2");
  EXPECT_EQ(q[3].first, "flag");
  EXPECT_EQ(q[4].second, "%zz");
}

}  // namespace
}  // namespace sockudo::dataplane::http
