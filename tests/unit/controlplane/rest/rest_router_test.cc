#include "controlplane/rest/rest_router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/apps/memory/writable_memory_app_store.h"
#include "common/base/json.h"
#include "controlplane/service/app_service.h"

namespace sockudo::controlplane::rest {
namespace {

using ::testing::HasSubstr;

class RestRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apps::App app;
    app.id = "a1";
    app.key = "k1";
    app.secret = "s1";
    store_ = *apps::WritableMemoryAppStore::FromApps({app});
    service_ = std::make_unique<service::AppService>(store_.get());
    router_ = std::make_unique<RestRouter>(service_.get(), &auth_);
  }

  RestResponse Call(std::string method, std::string target, std::string body = "",
                    std::string authorization = "Bearer t0ken") {
    return router_->Handle(RestRequest{std::move(method), std::move(target),
                                       std::move(authorization), std::move(body), "test"});
  }

  auth::TokenAuthenticator auth_{std::string("t0ken")};
  std::unique_ptr<apps::WritableMemoryAppStore> store_;
  std::unique_ptr<service::AppService> service_;
  std::unique_ptr<RestRouter> router_;
};

TEST_F(RestRouterTest, WrongTokenIs401) {
  auto r = Call("GET", "/v1/apps", "", "Bearer nope");
  EXPECT_EQ(r.status, 401);
  auto j = base::ParseJson(r.body);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["error"]["status"], "UNAUTHENTICATED");
  EXPECT_EQ((*j)["error"]["code"], 401);
  EXPECT_EQ(Call("GET", "/v1/apps", "", "").status, 401);
}

TEST_F(RestRouterTest, CrudRoundTrip) {
  auto created = Call("POST", "/v1/apps?app_id=new", R"({"key":"nk","max_connections":3})");
  ASSERT_EQ(created.status, 200) << created.body;
  auto j = *base::ParseJson(created.body);
  EXPECT_EQ(j["name"], "apps/new");
  EXPECT_EQ(j["maxConnections"], "3");
  EXPECT_FALSE(j["secret"].get<std::string>().empty());

  auto got = Call("GET", "/v1/apps/new");
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(base::ParseJson(got.body)->contains("secret"));

  auto patched = Call("PATCH", "/v1/apps/new?update_mask=maxConnections,enable_client_messages",
                      R"({"maxConnections":"9","enableClientMessages":true,"key":"ignored"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(store_->FindById("new")->max_connections, 9);
  EXPECT_EQ(store_->FindById("new")->key, "nk");
  EXPECT_TRUE(store_->FindById("new")->enable_client_messages);

  EXPECT_EQ(Call("POST", "/v1/apps/new:disable").status, 200);
  EXPECT_FALSE(store_->FindById("new")->enabled);
  EXPECT_EQ(Call("POST", "/v1/apps/new:enable").status, 200);
  auto rotated = Call("POST", "/v1/apps/new:rotateSecret");
  ASSERT_EQ(rotated.status, 200);
  EXPECT_EQ((*base::ParseJson(rotated.body))["secret"], store_->FindById("new")->secret);

  auto list = Call("GET", "/v1/apps?page_size=1");
  ASSERT_EQ(list.status, 200);
  auto lj = *base::ParseJson(list.body);
  EXPECT_EQ(lj["apps"].size(), 1u);
  EXPECT_FALSE(lj["nextPageToken"].get<std::string>().empty());

  auto deleted = Call("DELETE", "/v1/apps/new");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body, "{}");
  EXPECT_EQ(Call("GET", "/v1/apps/new").status, 404);
}

TEST_F(RestRouterTest, ErrorsMapToHttpStatus) {
  auto dup = Call("POST", "/v1/apps", R"({"id":"a1"})");
  EXPECT_EQ(dup.status, 409);
  auto bad_json = Call("POST", "/v1/apps", R"({"maxConnections":"x"})");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_THAT(bad_json.body, HasSubstr("INVALID_ARGUMENT"));
  auto bad_field = Call("POST", "/v1/apps", R"({"key":"no spaces please"})");
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_THAT(bad_field.body, HasSubstr("app.key"));
  auto bad_mask = Call("PATCH", "/v1/apps/a1?update_mask=bogus", "{}");
  EXPECT_EQ(bad_mask.status, 400);
  EXPECT_THAT(bad_mask.body, HasSubstr("update_mask"));
  EXPECT_EQ(Call("GET", "/v1/apps?page_size=abc").status, 400);
  EXPECT_EQ(Call("GET", "/v1/nothing").status, 404);
  EXPECT_EQ(Call("POST", "/v1/apps/a1:explode").status, 404);
  EXPECT_EQ(Call("PUT", "/v1/apps/a1").status, 501);
}

}  // namespace
}  // namespace sockudo::controlplane::rest
