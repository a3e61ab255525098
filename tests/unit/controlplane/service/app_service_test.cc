#include "controlplane/service/app_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/apps/memory/writable_memory_app_store.h"
#include "google/protobuf/util/field_mask_util.h"

namespace sockudo::controlplane::service {
namespace {

using ::testing::HasSubstr;

apps::App MakeApp(const std::string& id, const std::string& key) {
  apps::App app;
  app.id = id;
  app.key = key;
  app.secret = "s-" + id;
  return app;
}

class AppServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = apps::WritableMemoryAppStore::FromApps({MakeApp("a1", "k1")});
    ASSERT_TRUE(store.ok());
    store_ = *std::move(store);
    service_ = std::make_unique<AppService>(store_.get(), [this](size_t n) {
      std::string token = std::to_string(++counter_);
      return std::string(n - token.size(), 'x') + token;
    });
    service_->SetChangeObserver([this](const AppChange& c) { changes_.push_back(c); });
  }

  int counter_ = 0;
  std::vector<AppChange> changes_;
  std::unique_ptr<apps::WritableMemoryAppStore> store_;
  std::unique_ptr<AppService> service_;
};

TEST_F(AppServiceTest, CreateGeneratesIdKeyAndSecret) {
  v1::CreateAppRequest request;
  request.mutable_app();
  auto app = service_->CreateApp(request);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->id().size(), 16u);
  EXPECT_EQ(app->key().size(), 20u);
  EXPECT_EQ(app->secret().size(), 40u);
  EXPECT_EQ(app->name(), "apps/" + app->id());
  EXPECT_TRUE(app->enabled());
  ASSERT_NE(store_->FindByKey(app->key()), nullptr);
  EXPECT_EQ(store_->FindByKey(app->key())->secret, app->secret());
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, AppChange::Kind::kCreated);
}

TEST_F(AppServiceTest, CreateKeepsGivenValues) {
  v1::CreateAppRequest request;
  request.set_app_id("mine");
  request.mutable_app()->set_key("my-key");
  request.mutable_app()->set_secret("my-secret");
  request.mutable_app()->set_max_connections(7);
  auto app = service_->CreateApp(request);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->id(), "mine");
  EXPECT_EQ(app->key(), "my-key");
  EXPECT_EQ(app->secret(), "my-secret");
  EXPECT_EQ(store_->FindById("mine")->max_connections, 7);
}

TEST_F(AppServiceTest, CreateRejectsDuplicatesAndBadInput) {
  v1::CreateAppRequest request;
  request.mutable_app()->set_id("a1");
  EXPECT_EQ(service_->CreateApp(request).status().code(), absl::StatusCode::kAlreadyExists);
  request.mutable_app()->set_id("new");
  request.mutable_app()->set_key("k1");
  EXPECT_EQ(service_->CreateApp(request).status().code(), absl::StatusCode::kAlreadyExists);

  request.mutable_app()->set_key("has space");
  auto bad_key = service_->CreateApp(request);
  EXPECT_EQ(bad_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_key.status().message()), HasSubstr("app.key"));

  request.mutable_app()->set_key("fine");
  request.mutable_app()->add_allowed_origins("*.*.example.com");
  auto bad_origin = service_->CreateApp(request);
  EXPECT_EQ(bad_origin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->CreateApp(v1::CreateAppRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(changes_.empty());
}

TEST_F(AppServiceTest, GetHidesSecretAndChecksName) {
  v1::GetAppRequest request;
  request.set_name("apps/a1");
  auto app = service_->GetApp(request);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->key(), "k1");
  EXPECT_TRUE(app->secret().empty());

  request.set_name("apps/nope");
  EXPECT_EQ(service_->GetApp(request).status().code(), absl::StatusCode::kNotFound);
  request.set_name("a1");
  auto bad = service_->GetApp(request);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("name"));
}

TEST_F(AppServiceTest, UpdateAppliesOnlyTheMask) {
  v1::UpdateAppRequest request;
  request.mutable_app()->set_name("apps/a1");
  request.mutable_app()->set_key("ignored-key");
  request.mutable_app()->set_max_connections(42);
  google::protobuf::util::FieldMaskUtil::FromString("max_connections",
                                                    request.mutable_update_mask());
  auto app = service_->UpdateApp(request);
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(app->key(), "k1");
  EXPECT_EQ(app->max_connections(), 42);
  EXPECT_EQ(store_->FindById("a1")->secret, "s-a1");  // kept
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, AppChange::Kind::kUpdated);
}

TEST_F(AppServiceTest, UpdateWithoutMaskUsesGivenFieldsAndClearsMaskedUnsetOnes) {
  v1::UpdateAppRequest request;
  request.mutable_app()->set_name("apps/a1");
  request.mutable_app()->set_max_event_batch_size(5);
  request.mutable_app()->set_key("k1-new");
  ASSERT_TRUE(service_->UpdateApp(request).ok());
  EXPECT_EQ(store_->FindById("a1")->max_event_batch_size, 5);
  EXPECT_NE(store_->FindByKey("k1-new"), nullptr);
  EXPECT_EQ(store_->FindByKey("k1"), nullptr);

  v1::UpdateAppRequest clear;
  clear.mutable_app()->set_name("apps/a1");
  google::protobuf::util::FieldMaskUtil::FromString("max_event_batch_size",
                                                    clear.mutable_update_mask());
  ASSERT_TRUE(service_->UpdateApp(clear).ok());
  EXPECT_FALSE(store_->FindById("a1")->max_event_batch_size.has_value());
}

TEST_F(AppServiceTest, UpdateRejectsBadMasksAndMissingApps) {
  v1::UpdateAppRequest request;
  request.mutable_app()->set_name("apps/a1");
  google::protobuf::util::FieldMaskUtil::FromString("nonsense", request.mutable_update_mask());
  auto unknown = service_->UpdateApp(request);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("update_mask"));

  google::protobuf::util::FieldMaskUtil::FromString("id", request.mutable_update_mask());
  EXPECT_EQ(service_->UpdateApp(request).status().code(), absl::StatusCode::kInvalidArgument);

  google::protobuf::util::FieldMaskUtil::FromString("secret", request.mutable_update_mask());
  auto empty_secret = service_->UpdateApp(request);
  EXPECT_EQ(empty_secret.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty_secret.status().message()), HasSubstr("app.secret"));

  request.mutable_app()->set_name("apps/ghost");
  request.mutable_app()->set_max_connections(1);
  google::protobuf::util::FieldMaskUtil::FromString("max_connections",
                                                    request.mutable_update_mask());
  EXPECT_EQ(service_->UpdateApp(request).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AppServiceTest, DeleteRotateEnableDisable) {
  v1::RotateAppSecretRequest rotate;
  rotate.set_name("apps/a1");
  auto rotated = service_->RotateAppSecret(rotate);
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->secret(), "s-a1");
  EXPECT_EQ(store_->FindById("a1")->secret, rotated->secret());

  v1::DisableAppRequest disable;
  disable.set_name("apps/a1");
  auto disabled = service_->DisableApp(disable);
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->enabled());
  EXPECT_FALSE(store_->FindById("a1")->enabled);
  v1::EnableAppRequest enable;
  enable.set_name("apps/a1");
  ASSERT_TRUE(service_->EnableApp(enable).ok());
  EXPECT_TRUE(store_->FindById("a1")->enabled);

  v1::DeleteAppRequest del;
  del.set_name("apps/a1");
  ASSERT_TRUE(service_->DeleteApp(del).ok());
  EXPECT_EQ(store_->FindById("a1"), nullptr);
  EXPECT_EQ(service_->DeleteApp(del).status().code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(changes_.size(), 4u);
  EXPECT_EQ(changes_[0].kind, AppChange::Kind::kSecretRotated);
  EXPECT_EQ(changes_[1].kind, AppChange::Kind::kDisabled);
  EXPECT_EQ(changes_[2].kind, AppChange::Kind::kEnabled);
  EXPECT_EQ(changes_.back().kind, AppChange::Kind::kDeleted);
  EXPECT_EQ(changes_.back().old_key, "k1");
  EXPECT_STREQ(AppChangeAction(changes_[0].kind), "secret_rotated");
  EXPECT_STREQ(AppChangeAction(changes_[1].kind), "disabled");
  EXPECT_STREQ(AppChangeAction(changes_.back().kind), "deleted");
}

TEST_F(AppServiceTest, UpdateThatClearsEnabledIsADisable) {
  v1::UpdateAppRequest request;
  request.mutable_app()->set_name("apps/a1");
  request.mutable_app()->set_enabled(false);
  request.mutable_update_mask()->add_paths("enabled");
  ASSERT_TRUE(service_->UpdateApp(request).ok());
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].kind, AppChange::Kind::kDisabled);
}

TEST_F(AppServiceTest, ListPagesInIdOrder) {
  for (const char* id : {"c", "b", "d"}) {
    v1::CreateAppRequest request;
    request.set_app_id(id);
    request.mutable_app();
    ASSERT_TRUE(service_->CreateApp(request).ok());
  }
  v1::ListAppsRequest request;
  request.set_page_size(3);
  auto first = service_->ListApps(request);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->apps_size(), 3);
  EXPECT_EQ(first->apps(0).id(), "a1");
  EXPECT_EQ(first->apps(2).id(), "c");
  EXPECT_EQ(first->total_size(), 4);
  EXPECT_TRUE(first->apps(0).secret().empty());
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto second = service_->ListApps(request);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->apps_size(), 1);
  EXPECT_EQ(second->apps(0).id(), "d");
  EXPECT_TRUE(second->next_page_token().empty());

  request.set_page_token("!!!");
  EXPECT_THAT(std::string(service_->ListApps(request).status().message()), HasSubstr("page_token"));
  request.clear_page_token();
  request.set_page_size(-1);
  EXPECT_THAT(std::string(service_->ListApps(request).status().message()), HasSubstr("page_size"));
}

}  // namespace
}  // namespace sockudo::controlplane::service
