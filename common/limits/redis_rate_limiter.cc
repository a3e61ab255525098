#include "common/limits/redis_rate_limiter.h"

#include <cmath>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/logging.h"

namespace sockudo::limits {
namespace {

using bus::redis::RedisReply;

// Token bucket. KEYS[1] = bucket; ARGV = capacity, cost, now_ms.
// Returns {allowed, tokens left as a string}.
constexpr char kBucketScript[] = R"lua(
local cap = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then tokens = cap; ts = now end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(cap, tokens + elapsed * cap / 1000)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 2000)
return {allowed, tostring(tokens)}
)lua";

// Sliding-window log. KEYS[1] = sorted set; ARGV = now_ms, window seconds, max, member.
// Returns {allowed, remaining}.
constexpr char kWindowScript[] = R"lua(
local now = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, '(' .. (now - w * 1000))
local n = redis.call('ZCARD', KEYS[1])
local allowed = 0
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  allowed = 1
elseif n < max then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  n = n + 1
  allowed = 1
end
if n > 0 then redis.call('EXPIRE', KEYS[1], w) end
local left = max - n
if left < 0 then left = 0 end
return {allowed, left}
)lua";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr size_t kBucket = 0;
constexpr size_t kWindow = 1;

// {allowed, second} of a script reply, or nullopt when it has another shape.
std::optional<std::pair<bool, const RedisReply*>> Pair(const absl::StatusOr<RedisReply>& r) {
  if (!r.ok() || !r->is_array() || r->elements.size() != 2) return std::nullopt;
  return std::pair{r->elements[0].integer == 1, &r->elements[1]};
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisRateLimiterOptions options)
    : prefix_(std::move(options.prefix)),
      errors_(options.errors),
      random_((static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()),
      pool_(std::move(options.pool), {kBucketScript, kWindowScript}) {}

void RedisRateLimiter::TakeTokens(const std::string& key, int64_t per_second, int64_t cost,
                                  RateDone done) {
  pool_.Script(kBucket, absl::StrCat(prefix_, ":rl:", key),
               {std::to_string(per_second), std::to_string(cost), std::to_string(NowMs())},
               [this, per_second, cost, done = std::move(done)](absl::StatusOr<RedisReply> r) {
                 RateDecision d{.allowed = true, .limit = per_second, .remaining = per_second};
                 auto pair = Pair(r);
                 double tokens = 0;
                 if (pair && absl::SimpleAtod(pair->second->str, &tokens)) {
                   failures_.Succeed();
                   d.allowed = pair->first;
                   d.remaining = static_cast<int64_t>(std::floor(tokens));
                   if (!d.allowed) d.reset_seconds = RetryAfterSeconds(tokens, cost, per_second);
                 } else {
                   Failed(r.ok() ? absl::InternalError(r->DebugString()) : r.status());
                 }
                 done(d);
               });
}

void RedisRateLimiter::Hit(const std::string& key, int64_t max, int64_t window_seconds,
                           RateDone done) {
  // Generated once per hit, so that a retried script finds its own entry.
  std::string member =
      absl::StrCat(NowMs(), ":", random_, ":", sequence_.fetch_add(1, std::memory_order_relaxed));
  pool_.Script(kWindow, absl::StrCat(prefix_, ":rl:", key),
               {std::to_string(NowMs()), std::to_string(window_seconds), std::to_string(max),
                std::move(member)},
               [this, max, window_seconds, done = std::move(done)](absl::StatusOr<RedisReply> r) {
                 RateDecision d{.allowed = true, .limit = max, .remaining = max};
                 if (auto pair = Pair(r)) {
                   failures_.Succeed();
                   d.allowed = pair->first;
                   d.remaining = pair->second->integer;
                   d.reset_seconds = window_seconds;
                 } else {
                   Failed(r.ok() ? absl::InternalError(r->DebugString()) : r.status());
                 }
                 done(d);
               });
}

void RedisRateLimiter::Failed(const absl::Status& why) {
  if (errors_ != nullptr) errors_->fetch_add(1, std::memory_order_relaxed);
  if (const int64_t n = failures_.Fail(); base::FailureStreak::ShouldLog(n)) {
    base::Logger("ratelimit")
        ->warn("rate limiter store failed, request allowed (fail open; {} in a row): {}", n,
               std::string(why.message()));
  }
}

}  // namespace sockudo::limits
