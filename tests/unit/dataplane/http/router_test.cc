#include "dataplane/http/router.h"

#include <gtest/gtest.h>

#include "tests/testutil/node_fixture.h"

namespace sockudo::dataplane::http {
namespace {

int StatusOf(Router& router, HttpRequest request) {
  int status = 0;
  int answers = 0;
  router.Handle(request, [&](HttpResponse r) {
    status = r.status;
    ++answers;
  });
  EXPECT_EQ(answers, 1);
  return status;
}

// Found by tests/fuzz/http_api_fuzz: `GET ?a HTTP/1.1` has an empty path, and the router's
// substr(1) threw out of the worker: one request stopped the node.
TEST(RouterTest, AnEmptyPathIsNotFound) {
  testutil::NodeFixture node;
  Router router(*node.node);
  EXPECT_EQ(StatusOf(router, {.method = "GET", .path = ""}), 404);
  EXPECT_EQ(StatusOf(router, {.method = "POST", .path = ""}), 404);
}

TEST(RouterTest, OddPathsAreAnsweredOnce) {
  testutil::NodeFixture node;
  Router router(*node.node);
  for (const char* path : {"*", "//", "/apps", "/apps/", "/apps//events", "/app/", "/app//x",
                           "/apps/app-id/channels/", "/apps/app-id/users//terminate_connections"}) {
    const int status = StatusOf(router, {.method = "GET", .path = path});
    EXPECT_GE(status, 400) << path;
    EXPECT_LT(status, 500) << path;
  }
}

}  // namespace
}  // namespace sockudo::dataplane::http
