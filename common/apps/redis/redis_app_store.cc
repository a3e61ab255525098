#include "common/apps/redis/redis_app_store.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/apps/app_reader.h"
#include "common/base/json.h"
#include "common/base/logging.h"
#include "common/bus/redis/blocking_redis.h"

namespace sockudo::apps {
namespace {

// KEYS: app record, key index, ids set. ARGV: id, record.
constexpr char kCreate[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 'ERR_ID' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'ERR_KEY' end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 'OK')lua";

// KEYS: app record, new key index, ids set. ARGV: id, record, key index prefix.
// All keys share the {apps} hash tag, so the old key index lives in the same slot.
constexpr char kUpdate[] = R"lua(
local old = redis.call('GET', KEYS[1])
if not old then return 'ERR_NOT_FOUND' end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then return 'ERR_KEY' end
local old_key = cjson.decode(old)['key']
if type(old_key) == 'string' and ARGV[3] .. old_key ~= KEYS[2] then
  redis.call('DEL', ARGV[3] .. old_key)
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return 'OK')lua";

// KEYS: app record, ids set. ARGV: id, key index prefix.
constexpr char kDelete[] = R"lua(
local old = redis.call('GET', KEYS[1])
if not old then return 'ERR_NOT_FOUND' end
local old_key = cjson.decode(old)['key']
if type(old_key) == 'string' then redis.call('DEL', ARGV[2] .. old_key) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 'OK')lua";

}  // namespace

RedisAppStore::RedisAppStore(config::RedisTarget target, std::string prefix,
                             std::chrono::milliseconds timeout)
    : target_(std::move(target)), prefix_(std::move(prefix)), timeout_(timeout) {}

RedisAppStore::~RedisAppStore() {
  if (context_ != nullptr) redisFree(context_);
}

absl::StatusOr<std::unique_ptr<RedisAppStore>> RedisAppStore::Connect(
    const config::RedisTarget& target, std::string prefix, std::chrono::milliseconds timeout) {
  if (!target.sentinels.empty() || target.tls) {
    return absl::UnimplementedError(
        "app_manager.driver=redis: Sentinel and TLS endpoints are not supported by the app store "
        "yet; point REDIS_URL or database.redis at the master");
  }
  std::unique_ptr<RedisAppStore> store(new RedisAppStore(target, std::move(prefix), timeout));
  std::lock_guard lock(store->mu_);
  // A longer first dial: the store is checked once at startup.
  auto saved = store->timeout_;
  store->timeout_ = std::max(timeout, std::chrono::milliseconds(2000));
  absl::Status st = store->EnsureConnected();
  store->timeout_ = saved;
  if (!st.ok()) return st;
  if (store->context_ != nullptr) bus::redis::SetBlockingTimeout(store->context_, timeout);
  return store;
}

std::string RedisAppStore::AppKey(std::string_view id) const {
  return absl::StrCat(prefix_, "{apps}:app:", std::string(id));
}
std::string RedisAppStore::KeyIndex(std::string_view key) const {
  return absl::StrCat(prefix_, "{apps}:key:", std::string(key));
}
std::string RedisAppStore::IdsKey() const { return absl::StrCat(prefix_, "{apps}:ids"); }

absl::Status RedisAppStore::EnsureConnected() const {
  if (context_ != nullptr && context_->err == 0) {
    // A connection Redis closed (a restart) shows EOF on a peek: dial again rather than lose
    // the caller's command to it (a write must not be sent twice).
    char byte = 0;
    const ssize_t n = recv(context_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return absl::OkStatus();
  }
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  auto dialled = bus::redis::DialBlocking(target_, timeout_, "app store");
  if (!dialled.ok()) return dialled.status();
  context_ = *dialled;
  return absl::OkStatus();
}

absl::StatusOr<bus::redis::RedisReply> RedisAppStore::Command(
    const std::vector<std::string>& argv) const {
  if (context_ == nullptr) {
    return absl::UnavailableError("app store: not connected to Redis");
  }
  auto reply = bus::redis::CommandBlocking(context_, argv);
  if (!reply.ok()) {
    redisFree(context_);
    context_ = nullptr;
    return absl::UnavailableError(absl::StrCat("app store: Redis at ", target_.host, ":",
                                               target_.port, ": ", reply.status().message()));
  }
  return reply;
}

void RedisAppStore::LogUnreachable(const absl::Status& status) const {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_error_log_ < std::chrono::seconds(10)) return;
  last_error_log_ = now;
  base::Logger("apps")->error("{}", std::string(status.message()));
}

absl::StatusOr<std::shared_ptr<const App>> RedisAppStore::ParseRecord(
    const std::string& json) const {
  auto parsed = base::ParseJson(json);
  if (!parsed.has_value()) return absl::DataLossError("app store: a record is not JSON");
  auto app = ReadApp(*parsed);
  if (!app.ok()) {
    return absl::DataLossError(
        absl::StrCat("app store: invalid record: ", std::string(app.status().message())));
  }
  return std::make_shared<const App>(*std::move(app));
}

absl::StatusOr<std::shared_ptr<const App>> RedisAppStore::LookupById(std::string_view id) const {
  std::lock_guard lock(mu_);
  if (auto st = EnsureConnected(); !st.ok()) return st;
  auto r = Command({"GET", AppKey(id)});
  if (!r.ok()) return r.status();
  if (r->type != bus::redis::RedisReply::Type::kString) return std::shared_ptr<const App>();
  return ParseRecord(r->str);
}

absl::StatusOr<std::shared_ptr<const App>> RedisAppStore::LookupByKey(std::string_view key) const {
  std::string id;
  {
    std::lock_guard lock(mu_);
    if (auto st = EnsureConnected(); !st.ok()) return st;
    auto r = Command({"GET", KeyIndex(key)});
    if (!r.ok()) return r.status();
    if (r->type != bus::redis::RedisReply::Type::kString) return std::shared_ptr<const App>();
    id = r->str;
  }
  auto app = LookupById(id);
  if (app.ok() && *app != nullptr && (*app)->key != key) return std::shared_ptr<const App>();
  return app;
}

absl::StatusOr<std::vector<std::shared_ptr<const App>>> RedisAppStore::LoadAll() const {
  std::lock_guard lock(mu_);
  if (auto st = EnsureConnected(); !st.ok()) return st;
  auto ids = Command({"SMEMBERS", IdsKey()});
  if (!ids.ok()) return ids.status();
  std::vector<std::shared_ptr<const App>> out;
  if (ids->elements.empty()) return out;
  std::vector<std::string> mget = {"MGET"};
  for (const bus::redis::RedisReply& id : ids->elements) mget.push_back(AppKey(id.str));
  auto records = Command(mget);
  if (!records.ok()) return records.status();
  for (const bus::redis::RedisReply& record : records->elements) {
    if (record.type != bus::redis::RedisReply::Type::kString) continue;  // deleted meanwhile
    auto app = ParseRecord(record.str);
    if (app.ok()) out.push_back(*std::move(app));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

std::shared_ptr<const App> RedisAppStore::FindById(std::string_view id) const {
  auto app = LookupById(id);
  if (!app.ok()) {
    LogUnreachable(app.status());
    return nullptr;
  }
  return *app;
}

std::shared_ptr<const App> RedisAppStore::FindByKey(std::string_view key) const {
  auto app = LookupByKey(key);
  if (!app.ok()) {
    LogUnreachable(app.status());
    return nullptr;
  }
  return *app;
}

std::vector<std::shared_ptr<const App>> RedisAppStore::All() const {
  auto all = LoadAll();
  if (!all.ok()) {
    LogUnreachable(all.status());
    return {};
  }
  return *std::move(all);
}

absl::Status RedisAppStore::RunScript(const char* script, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args, const std::string& id,
                                      const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto st = EnsureConnected(); !st.ok()) return st;
  std::vector<std::string> argv = {"EVAL", script, std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Command(argv);
  if (!r.ok()) return r.status();
  if (r->type == bus::redis::RedisReply::Type::kError) {
    return absl::UnavailableError(absl::StrCat("app store: Redis refused the write: ", r->str));
  }
  if (r->str == "ERR_ID") return absl::AlreadyExistsError(absl::StrCat("app id ", id, " exists"));
  if (r->str == "ERR_KEY") {
    return absl::AlreadyExistsError(absl::StrCat("app key ", key, " belongs to another app"));
  }
  if (r->str == "ERR_NOT_FOUND") return absl::NotFoundError(absl::StrCat("apps/", id));
  return absl::OkStatus();
}

absl::Status RedisAppStore::Create(App app) {
  return RunScript(kCreate, {AppKey(app.id), KeyIndex(app.key), IdsKey()},
                   {app.id, base::Dump(StoredRecord(app))}, app.id, app.key);
}

absl::Status RedisAppStore::Update(App app) {
  return RunScript(kUpdate, {AppKey(app.id), KeyIndex(app.key), IdsKey()},
                   {app.id, base::Dump(StoredRecord(app)), KeyIndex("")}, app.id, app.key);
}

absl::Status RedisAppStore::Delete(std::string_view id) {
  const std::string app_id(id);
  return RunScript(kDelete, {AppKey(app_id), IdsKey()}, {app_id, KeyIndex("")}, app_id, "");
}

}  // namespace sockudo::apps
