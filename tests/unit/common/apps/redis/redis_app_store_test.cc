#include "common/apps/redis/redis_app_store.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "common/apps/cached/cached_app_store.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::apps {
namespace {

App MakeApp(std::string id, std::string key, std::string secret = "s") {
  App app;
  app.id = std::move(id);
  app.key = std::move(key);
  app.secret = std::move(secret);
  return app;
}

class RedisAppStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    target_.host = "127.0.0.1";
    target_.port = redis_.port();
    auto store = RedisAppStore::Connect(target_, "t:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  testutil::RedisServer redis_;
  config::RedisTarget target_;
  std::unique_ptr<RedisAppStore> store_;
};

TEST_F(RedisAppStoreTest, CreateFindUpdateDeleteKeepTheThreeKeysInStep) {
  ASSERT_TRUE(store_->Create(MakeApp("a1", "k1")).ok());
  EXPECT_EQ(store_->Create(MakeApp("a1", "other")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Create(MakeApp("a2", "k1")).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_NE(store_->FindById("a1"), nullptr);
  EXPECT_EQ(store_->FindByKey("k1")->id, "a1");
  EXPECT_EQ(redis_.Command({"GET", "t:{apps}:key:k1"})->str, "a1");

  // A new key moves the index; the old key finds nothing.
  ASSERT_TRUE(store_->Update(MakeApp("a1", "k2", "new-secret")).ok());
  EXPECT_EQ(store_->FindByKey("k1"), nullptr);
  EXPECT_EQ(store_->FindByKey("k2")->secret, "new-secret");
  EXPECT_TRUE(redis_.Command({"GET", "t:{apps}:key:k1"})->is_nil());
  ASSERT_TRUE(store_->Create(MakeApp("a2", "k3")).ok());
  EXPECT_EQ(store_->Update(MakeApp("a1", "k3")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Update(MakeApp("nope", "k9")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->All().size(), 2u);

  ASSERT_TRUE(store_->Delete("a1").ok());
  EXPECT_EQ(store_->FindById("a1"), nullptr);
  EXPECT_EQ(store_->FindByKey("k2"), nullptr);
  EXPECT_EQ(store_->Delete("a1").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(redis_.Command({"SMEMBERS", "t:{apps}:ids"})->elements.size(), 1u);
}

TEST_F(RedisAppStoreTest, AnUnreachableRedisFailsWritesWithUnavailableAndRecovers) {
  ASSERT_TRUE(store_->Create(MakeApp("a1", "k1")).ok());
  redis_.Kill();
  EXPECT_EQ(store_->Create(MakeApp("a2", "k2")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->LookupById("a1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->FindById("a1"), nullptr);
  ASSERT_TRUE(redis_.Start().ok());  // same port, empty (no persistence)
  EXPECT_TRUE(store_->Create(MakeApp("a2", "k2")).ok());
}

TEST_F(RedisAppStoreTest, TheCacheServesFromMemoryAndFollowsInvalidations) {
  ASSERT_TRUE(store_->Create(MakeApp("a1", "k1", "s1")).ok());
  auto source = RedisAppStore::Connect(target_, "t:");
  ASSERT_TRUE(source.ok());
  auto cache = CachedAppStore::Create(*std::move(source), std::chrono::seconds(0));
  ASSERT_TRUE(cache.ok()) << cache.status();
  std::mutex mu;
  std::condition_variable cv;
  int refreshed = 0;
  (*cache)->SetRefreshedHook([&] {
    std::lock_guard lock(mu);
    ++refreshed;
    cv.notify_all();
  });
  auto wait_refresh = [&](int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return refreshed >= n; });
  };
  EXPECT_EQ((*cache)->FindByKey("k1")->secret, "s1");

  // A write the cache was not told about is not seen until the notice comes.
  ASSERT_TRUE(store_->Update(MakeApp("a1", "k1", "s2")).ok());
  EXPECT_EQ((*cache)->FindByKey("k1")->secret, "s1");
  (*cache)->Invalidate("a1", "k1");
  ASSERT_TRUE(wait_refresh(1));
  EXPECT_EQ((*cache)->FindByKey("k1")->secret, "s2");

  // Served from memory while Redis is down.
  redis_.Kill();
  EXPECT_EQ((*cache)->FindById("a1")->secret, "s2");
  (*cache)->Invalidate("a1", "k1");  // refresh fails: the record stays
  ASSERT_TRUE(wait_refresh(2));
  EXPECT_NE((*cache)->FindById("a1"), nullptr);
  ASSERT_TRUE(redis_.Start().ok());

  // An unknown key is looked up in the background: the next lookup finds it.
  ASSERT_TRUE(store_->Create(MakeApp("a3", "k3")).ok());
  EXPECT_EQ((*cache)->FindByKey("k3"), nullptr);
  ASSERT_TRUE(wait_refresh(3));
  EXPECT_EQ((*cache)->FindByKey("k3")->id, "a3");

  // Deleted: gone from the cache after the notice.
  ASSERT_TRUE(store_->Delete("a3").ok());
  (*cache)->Invalidate("a3", "k3");
  ASSERT_TRUE(wait_refresh(4));
  EXPECT_EQ((*cache)->FindByKey("k3"), nullptr);
  EXPECT_EQ((*cache)->FindById("a3"), nullptr);
}

TEST_F(RedisAppStoreTest, AFullReloadReportsWhatWasDeletedOrDisabledWithoutANotice) {
  ASSERT_TRUE(store_->Create(MakeApp("a1", "k1")).ok());
  ASSERT_TRUE(store_->Create(MakeApp("a2", "k2")).ok());
  ASSERT_TRUE(store_->Create(MakeApp("a3", "k3")).ok());
  auto source = RedisAppStore::Connect(target_, "t:");
  ASSERT_TRUE(source.ok());
  auto cache = CachedAppStore::Create(*std::move(source), std::chrono::seconds(1));
  ASSERT_TRUE(cache.ok()) << cache.status();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<AppChange> seen;
  (*cache)->SetChangeListener([&](const AppChange& c) {
    std::lock_guard lock(mu);
    seen.push_back(c);
    cv.notify_all();
  });
  // Written behind the cache's back: no Invalidate (the AppChanged notice was lost).
  ASSERT_TRUE(store_->Delete("a1").ok());
  App off = MakeApp("a2", "k2");
  off.enabled = false;
  ASSERT_TRUE(store_->Update(off).ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.size() >= 2; }));
  EXPECT_EQ(seen[0].id, "a1");
  EXPECT_EQ(seen[0].action, "deleted");
  EXPECT_EQ(seen[0].old_key, "k1");
  EXPECT_EQ(seen[1].id, "a2");
  EXPECT_EQ(seen[1].action, "disabled");
  EXPECT_EQ((*cache)->FindByKey("k1"), nullptr);
  EXPECT_FALSE((*cache)->FindById("a2")->enabled);
  EXPECT_EQ(seen.size(), 2u);  // a3 did not change
}

}  // namespace
}  // namespace sockudo::apps
