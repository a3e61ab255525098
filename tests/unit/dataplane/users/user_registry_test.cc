#include "dataplane/users/user_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sockudo::dataplane::users {
namespace {

TEST(UserRegistryTest, OnlineWhileAnySocketIsSignedIn) {
  UserRegistry r;
  EXPECT_TRUE(r.SignIn("app", "u1", {}));
  EXPECT_FALSE(r.SignIn("app", "u1", {}));
  EXPECT_FALSE(r.SignOut("app", "u1", {}));
  EXPECT_TRUE(r.SignOut("app", "u1", {}));
  EXPECT_FALSE(r.SignOut("app", "u1", {}));
}

TEST(UserRegistryTest, WatchlistsAndStatus) {
  UserRegistry r;
  r.SignIn("app", "watcher", {"u2", "u3"});
  r.SignIn("app", "u2", {});
  EXPECT_THAT(r.WatchersOf("app", "u3"), ::testing::ElementsAre("watcher"));
  auto status = r.Status("app", {"u2", "u3"});
  EXPECT_THAT(status.online, ::testing::ElementsAre("u2"));
  EXPECT_THAT(status.offline, ::testing::ElementsAre("u3"));
  r.SignOut("app", "watcher", {"u2", "u3"});
  EXPECT_TRUE(r.WatchersOf("app", "u3").empty());
}

}  // namespace
}  // namespace sockudo::dataplane::users
