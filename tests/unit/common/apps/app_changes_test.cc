#include "common/apps/app_changes.h"

#include <gtest/gtest.h>

namespace sockudo::apps {
namespace {

std::shared_ptr<const App> MakeApp(std::string id, bool enabled = true) {
  auto app = std::make_shared<App>();
  app->id = id;
  app->key = id + "-key";
  app->enabled = enabled;
  return app;
}

TEST(ClosingChangesTest, ReportsDeletedAndDisabledAppsOnly) {
  const std::vector<std::shared_ptr<const App>> before = {
      MakeApp("gone"), MakeApp("off"), MakeApp("kept"), MakeApp("was-off", false),
      MakeApp("back-on", false)};
  const std::vector<std::shared_ptr<const App>> after = {MakeApp("new"), MakeApp("off", false),
                                                         MakeApp("kept"), MakeApp("was-off", false),
                                                         MakeApp("back-on")};
  const auto changes = ClosingChanges(before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].id, "gone");
  EXPECT_EQ(changes[0].action, "deleted");
  EXPECT_EQ(changes[0].old_key, "gone-key");
  EXPECT_EQ(changes[1].id, "off");
  EXPECT_EQ(changes[1].action, "disabled");
  EXPECT_EQ(changes[1].old_key, "off-key");
}

TEST(ClosingChangesTest, AnAppThatWasAlreadyDisabledAndIsDeletedStillCountsAsDeleted) {
  const auto changes = ClosingChanges({MakeApp("a", false)}, {});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].action, "deleted");
  EXPECT_TRUE(ClosingChanges({}, {MakeApp("a")}).empty());
}

}  // namespace
}  // namespace sockudo::apps
