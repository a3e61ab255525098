#include "common/apps/app_changes.h"

#include <gtest/gtest.h>

#include <vector>

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
  EXPECT_EQ(
      ClosingChanges(before, after),
      (std::vector<AppChange>{{"gone", "deleted", "gone-key"}, {"off", "disabled", "off-key"}}));
}

TEST(ClosingChangesTest, AnAppThatWasAlreadyDisabledAndIsDeletedStillCountsAsDeleted) {
  EXPECT_EQ(ClosingChanges({MakeApp("a", false)}, {}),
            (std::vector<AppChange>{{"a", "deleted", "a-key"}}));
  EXPECT_TRUE(ClosingChanges({}, {MakeApp("a")}).empty());
}

}  // namespace
}  // namespace sockudo::apps
