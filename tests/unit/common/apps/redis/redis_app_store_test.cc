#include "common/apps/redis/redis_app_store.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

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

// What a store's callback reports from its own thread, and a wait for the n-th report.
template <typename T>
class Reports {
 public:
  void Add(T item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return items_.size() >= n; });
  }
  std::vector<T> items() {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

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
  Reports<bool> refreshed;  // before the cache: its thread may report until the cache is gone
  auto source = RedisAppStore::Connect(target_, "t:");
  ASSERT_TRUE(source.ok());
  auto cache = CachedAppStore::Create(*std::move(source), std::chrono::seconds(0));
  ASSERT_TRUE(cache.ok()) << cache.status();
  (*cache)->SetRefreshedHook([&] { refreshed.Add(true); });
  auto wait_refresh = [&](size_t n) { return refreshed.WaitFor(n); };
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
  Reports<AppChange> changes;  // before the cache: its thread may report until the cache is gone
  auto source = RedisAppStore::Connect(target_, "t:");
  ASSERT_TRUE(source.ok());
  auto cache = CachedAppStore::Create(*std::move(source), std::chrono::seconds(1));
  ASSERT_TRUE(cache.ok()) << cache.status();
  (*cache)->SetChangeListener([&](const AppChange& c) { changes.Add(c); });
  // Written behind the cache's back: no Invalidate (the AppChanged notice was lost).
  ASSERT_TRUE(store_->Delete("a1").ok());
  App off = MakeApp("a2", "k2");
  off.enabled = false;
  ASSERT_TRUE(store_->Update(off).ok());
  ASSERT_TRUE(changes.WaitFor(2));
  // a3 did not change.
  EXPECT_EQ(changes.items(),
            (std::vector<AppChange>{{"a1", "deleted", "k1"}, {"a2", "disabled", "k2"}}));
  EXPECT_EQ((*cache)->FindByKey("k1"), nullptr);
  EXPECT_FALSE((*cache)->FindById("a2")->enabled);
}

}  // namespace
}  // namespace sockudo::apps
