#include "common/apps/file/file_app_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/base/json.h"

namespace sockudo::apps {
namespace {

class FileAppStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("file_app_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "apps.json").string();
    Write(R"([{"id":"a","key":"ka","secret":"sa","max_connections":"5"}])");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& text) { std::ofstream(path_) << text; }
  std::string Read() {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  std::string path_;
};

App MakeApp(const std::string& id, const std::string& key) {
  App app;
  app.id = id;
  app.key = key;
  app.secret = "s" + id;
  return app;
}

TEST_F(FileAppStoreTest, OpensAndLooksUp) {
  auto store = FileAppStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NE((*store)->FindByKey("ka"), nullptr);
  EXPECT_EQ((*store)->FindById("a")->max_connections, 5);
  EXPECT_EQ((*store)->FindById("b"), nullptr);
}

TEST_F(FileAppStoreTest, MissingOrInvalidFileFailsNamingThePath) {
  auto missing = FileAppStore::Open((dir_ / "none.json").string());
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("none.json"), std::string::npos);
  Write(R"([{"id":"a","key":"ka"}])");
  auto invalid = FileAppStore::Open(path_);
  EXPECT_FALSE(invalid.ok());
  EXPECT_NE(std::string(invalid.status().message()).find("secret"), std::string::npos);
}

TEST_F(FileAppStoreTest, WritesPersistAtomicallyAndSurviveReopen) {
  auto store = FileAppStore::Open(path_);
  ASSERT_TRUE(store.ok());
  App b = MakeApp("b", "kb");
  b.message_rate_limit = MessageRateLimit{.enabled = true, .max_attempts = 3};
  ASSERT_TRUE((*store)->Create(b).ok());
  EXPECT_EQ((*store)->Create(MakeApp("c", "kb")).code(), absl::StatusCode::kAlreadyExists);
  App a = *(*store)->FindById("a");
  a.key = "ka2";
  ASSERT_TRUE((*store)->Update(a).ok());
  EXPECT_EQ((*store)->Update(MakeApp("zzz", "kz")).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE((*store)->Delete("b").ok());
  EXPECT_EQ((*store)->Delete("b").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE((*store)->Create(MakeApp("d", "kd")).ok());
  // No temporary file is left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  auto parsed = base::ParseJson(Read());
  ASSERT_TRUE(parsed && parsed->is_array());

  auto reopened = FileAppStore::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_NE((*reopened)->FindByKey("ka2"), nullptr);
  EXPECT_EQ((*reopened)->FindByKey("ka"), nullptr);
  EXPECT_EQ((*reopened)->FindById("b"), nullptr);
  EXPECT_EQ((*reopened)->FindById("d")->secret, "sd");
}

TEST_F(FileAppStoreTest, MessageRateLimitRoundTrips) {
  auto store = FileAppStore::Open(path_);
  ASSERT_TRUE(store.ok());
  App b = MakeApp("b", "kb");
  b.message_rate_limit = MessageRateLimit{.enabled = true, .max_attempts = 3};
  ASSERT_TRUE((*store)->Create(b).ok());
  auto reopened = FileAppStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->FindById("b")->message_rate_limit.has_value());
  EXPECT_EQ((*reopened)->FindById("b")->message_rate_limit->max_attempts, 3);
}

TEST_F(FileAppStoreTest, ReloadTellsTheListenerWhatWasDeletedOrDisabled) {
  Write(R"([{"id":"a","key":"ka","secret":"sa"},{"id":"b","key":"kb","secret":"sb"},)"
        R"({"id":"c","key":"kc","secret":"sc"}])");
  auto store = FileAppStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<AppChange> seen;
  (*store)->SetChangeListener([&](const AppChange& c) { seen.push_back(c); });
  // Edited by hand: a removed, b switched off, c kept.
  Write(R"([{"id":"b","key":"kb","secret":"sb","enabled":false},)"
        R"({"id":"c","key":"kc","secret":"sc"}])");
  ASSERT_TRUE((*store)->Reload().ok());
  const std::vector<AppChange> expected = {{"a", "deleted", "ka"}, {"b", "disabled", "kb"}};
  EXPECT_EQ(seen, expected);
  // A failed reload changes nothing and reports nothing.
  Write("not json");
  EXPECT_FALSE((*store)->Reload().ok());
  EXPECT_EQ(seen, expected);
}

TEST_F(FileAppStoreTest, ReloadKeepsOldSetOnError) {
  auto store = FileAppStore::Open(path_);
  ASSERT_TRUE(store.ok());
  Write(R"([{"id":"x","key":"kx","secret":"sx"}])");
  ASSERT_TRUE((*store)->Reload().ok());
  EXPECT_NE((*store)->FindById("x"), nullptr);
  EXPECT_EQ((*store)->FindById("a"), nullptr);
  Write("not json");
  EXPECT_FALSE((*store)->Reload().ok());
  EXPECT_NE((*store)->FindById("x"), nullptr);
  Write(R"([{"id":"x","key":"k","secret":"s"},{"id":"y","key":"k","secret":"s"}])");
  EXPECT_FALSE((*store)->Reload().ok());
  EXPECT_NE((*store)->FindById("x"), nullptr);
}

}  // namespace
}  // namespace sockudo::apps
