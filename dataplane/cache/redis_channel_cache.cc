#include "dataplane/cache/redis_channel_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/json.h"
#include "common/base/logging.h"
#include "common/protocol/frame.h"

namespace sockudo::dataplane::cache {
namespace {

using bus::redis::RedisReply;

// KEYS[1] = the entry. Returns nil, or {frame, ttl seconds (-1: none)}.
constexpr char kGetScript[] = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('TTL', KEYS[1])}
)lua";

}  // namespace

RedisChannelCache::RedisChannelCache(RedisChannelCacheOptions options)
    : prefix_(std::move(options.prefix)),
      ttl_seconds_(options.ttl_seconds),
      errors_(options.errors),
      pool_(std::move(options.pool), {kGetScript}) {}

std::string RedisChannelCache::Key(const std::string& app_id, const std::string& channel) const {
  return absl::StrCat(prefix_, ":app:", app_id, ":channel:", channel, ":cache_miss");
}

void RedisChannelCache::Put(const std::string& app_id, const std::string& channel,
                            std::string event, std::string data) {
  std::string key = Key(app_id, channel);
  std::vector<std::string> argv = {"SET", key, protocol::ChannelEventFrame(event, channel, data)};
  if (ttl_seconds_ > 0) argv.insert(argv.end(), {"EX", std::to_string(ttl_seconds_)});
  pool_.Command(std::move(key), std::move(argv), [this](absl::StatusOr<RedisReply> r) {
    if (!r.ok()) return Failed(r.status());
    failures_.Succeed();
  });
}

void RedisChannelCache::Get(const std::string& app_id, const std::string& channel,
                            CacheDone done) {
  std::string key = Key(app_id, channel);
  pool_.Script(0, std::move(key), {}, [this, done = std::move(done)](absl::StatusOr<RedisReply> r) {
    if (!r.ok()) {
      Failed(r.status());
      return done(std::nullopt);
    }
    failures_.Succeed();
    if (r->is_nil() || !r->is_array() || r->elements.size() != 2) return done(std::nullopt);
    std::optional<base::Json> frame = base::ParseJson(r->elements[0].str);
    if (!frame.has_value() || !frame->is_object() || !(*frame)["event"].is_string() ||
        !(*frame)["data"].is_string()) {
      Failed(absl::DataLossError("unreadable cache entry"));
      return done(std::nullopt);
    }
    CachedEvent cached{(*frame)["event"].get<std::string>(), (*frame)["data"].get<std::string>(),
                       r->elements[1].integer < 0 ? -1 : r->elements[1].integer};
    done(std::move(cached));
  });
}

void RedisChannelCache::Failed(const absl::Status& why) {
  if (errors_ != nullptr) errors_->fetch_add(1, std::memory_order_relaxed);
  if (const int64_t n = failures_.Fail(); base::FailureStreak::ShouldLog(n)) {
    base::Logger("cache")->warn("cache store failed ({} in a row; reads miss, writes dropped): {}",
                                n, std::string(why.message()));
  }
}

}  // namespace sockudo::dataplane::cache
