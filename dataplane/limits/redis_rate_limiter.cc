#include "dataplane/limits/redis_rate_limiter.h"

#include <hiredis/hiredis.h>

#include <map>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/logging.h"
#include "common/bus/redis/blocking_redis.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::dataplane::limits {
namespace {

using bus::redis::RedisReply;

// Token bucket (spec/backends.md §4.2). KEYS[1] = bucket; ARGV = capacity, cost, now_ms.
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

// Sliding-window log (spec/backends.md §4.2). KEYS[1] = sorted set; ARGV = now_ms, window
// seconds, max, member. Returns {allowed, remaining}.
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

std::string Address(const config::RedisTarget& t) { return absl::StrCat(t.host, ":", t.port); }

}  // namespace

// One thread: its connections (one per server address) and the script SHAs each server knows.
class RedisRateLimiter::Worker {
 public:
  explicit Worker(RedisRateLimiter* owner) : owner_(owner) {}
  ~Worker() {
    for (auto& [address, c] : connections_) redisFree(c.context);
  }

  void Run() {
    Check check;
    while (owner_->Pop(&check)) {
      RateDecision d;
      d.limit = check.limit;
      d.remaining = check.limit;
      auto answer = Execute(check);
      if (answer.ok()) {
        d = *answer;
        owner_->failures_.store(0, std::memory_order_relaxed);
      } else {
        owner_->Failed(std::string(answer.status().message()));
      }
      check.done(d);
    }
  }

 private:
  struct Connection {
    redisContext* context = nullptr;
    std::string bucket_sha;
    std::string window_sha;
  };

  absl::StatusOr<RateDecision> Execute(const Check& check) {
    std::string address = Address(owner_->options_.endpoints.front());
    if (owner_->options_.cluster) {
      const uint16_t slot = bus::redis_cluster::KeySlot(check.key);
      if (auto it = slot_owner_.find(slot); it != slot_owner_.end()) address = it->second;
    }
    bool asking = false;
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto conn = Connect(address);
      if (!conn.ok()) {
        // A cluster node that went away: start again from another seed.
        if (owner_->options_.cluster && attempt == 0 && owner_->options_.endpoints.size() > 1) {
          address = Address(owner_->options_.endpoints[(++seed_) % owner_->options_.endpoints.size()]);
          continue;
        }
        return conn.status();
      }
      Connection& c = **conn;
      if (asking) {
        auto r = bus::redis::CommandBlocking(c.context, {"ASKING"});
        if (!r.ok()) return Broken(address, r.status());
      }
      const std::string& sha = check.bucket ? c.bucket_sha : c.window_sha;
      std::vector<std::string> argv = {"EVALSHA", sha, "1", check.key};
      const int64_t now = NowMs();
      if (check.bucket) {
        argv.insert(argv.end(), {std::to_string(check.limit), std::to_string(check.cost),
                                 std::to_string(now)});
      } else {
        argv.insert(argv.end(), {std::to_string(now), std::to_string(check.window),
                                 std::to_string(check.limit), check.member});
      }
      auto r = bus::redis::CommandBlocking(c.context, argv);
      if (!r.ok()) return Broken(address, r.status());
      if (r->type == RedisReply::Type::kError) {
        asking = false;
        if (absl::StartsWith(r->str, "NOSCRIPT")) {
          auto loaded = LoadScripts(c);
          if (!loaded.ok()) return Broken(address, loaded);
          continue;
        }
        if (owner_->options_.cluster &&
            (absl::StartsWith(r->str, "MOVED ") || absl::StartsWith(r->str, "ASK "))) {
          std::vector<std::string> parts = absl::StrSplit(r->str, ' ');
          if (parts.size() == 3) {
            int slot = 0;
            if (parts[0] == "MOVED" && absl::SimpleAtoi(parts[1], &slot)) {
              slot_owner_[static_cast<uint16_t>(slot)] = parts[2];
            }
            asking = parts[0] == "ASK";
            address = parts[2];
            continue;
          }
        }
        return absl::UnavailableError(absl::StrCat("Redis at ", address, ": ", r->str));
      }
      if (!r->is_array() || r->elements.size() != 2) {
        return absl::InternalError(absl::StrCat("Redis at ", address, ": unexpected reply ",
                                                r->DebugString()));
      }
      RateDecision d;
      d.limit = check.limit;
      d.allowed = r->elements[0].integer == 1;
      if (check.bucket) {
        double tokens = 0;
        if (!absl::SimpleAtod(r->elements[1].str, &tokens)) tokens = 0;
        d.remaining = static_cast<int64_t>(std::floor(tokens));
        if (!d.allowed) d.reset_seconds = RetryAfterSeconds(tokens, check.cost, check.limit);
      } else {
        d.remaining = r->elements[1].integer;
        d.reset_seconds = check.window;
      }
      return d;
    }
    return absl::UnavailableError("too many Redis Cluster redirections");
  }

  absl::StatusOr<Connection*> Connect(const std::string& address) {
    auto it = connections_.find(address);
    if (it != connections_.end()) return &it->second;
    const auto now = std::chrono::steady_clock::now();
    if (auto down = down_until_.find(address); down != down_until_.end() && now < down->second) {
      return absl::UnavailableError(absl::StrCat("Redis at ", address, " is down"));
    }
    config::RedisTarget target = owner_->options_.endpoints.front();
    std::pair<std::string, std::string> host_port = absl::StrSplit(address, absl::MaxSplits(':', 1));
    target.host = host_port.first;
    if (!absl::SimpleAtoi(host_port.second, &target.port)) target.port = 6379;
    auto context = bus::redis::DialBlocking(target, owner_->options_.timeout, "rate limiter");
    if (!context.ok()) {
      down_until_[address] = now + std::chrono::seconds(1);
      return context.status();
    }
    Connection c;
    c.context = *context;
    if (absl::Status st = LoadScripts(c); !st.ok()) {
      redisFree(c.context);
      down_until_[address] = now + std::chrono::seconds(1);
      return st;
    }
    down_until_.erase(address);
    return &connections_.emplace(address, c).first->second;
  }

  absl::Status LoadScripts(Connection& c) {
    for (auto [script, sha] : {std::pair{kBucketScript, &c.bucket_sha},
                               std::pair{kWindowScript, &c.window_sha}}) {
      auto r = bus::redis::CommandBlocking(c.context, {"SCRIPT", "LOAD", script});
      if (!r.ok()) return r.status();
      if (r->type == RedisReply::Type::kError) return absl::UnavailableError(r->str);
      *sha = r->str;
    }
    return absl::OkStatus();
  }

  absl::Status Broken(const std::string& address, absl::Status why) {
    if (auto it = connections_.find(address); it != connections_.end()) {
      redisFree(it->second.context);
      connections_.erase(it);
    }
    return absl::UnavailableError(absl::StrCat("Redis at ", address, ": ", why.message()));
  }

  RedisRateLimiter* owner_;
  std::map<std::string, Connection> connections_;
  std::map<std::string, std::chrono::steady_clock::time_point> down_until_;
  std::map<uint16_t, std::string> slot_owner_;
  size_t seed_ = 0;
};

RedisRateLimiter::RedisRateLimiter(RedisRateLimiterOptions options)
    : options_(std::move(options)), random_(std::random_device{}()) {
  random_ = (random_ << 32) ^ std::random_device{}();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { Worker(this).Run(); });
  }
}

RedisRateLimiter::~RedisRateLimiter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  std::deque<Check> left;
  {
    std::lock_guard lock(mu_);
    left.swap(pending_);
  }
  for (Check& c : left) c.done(RateDecision{.allowed = true, .limit = c.limit, .remaining = c.limit});
}

void RedisRateLimiter::TakeTokens(const std::string& key, int64_t per_second, int64_t cost,
                                  RateDone done) {
  Enqueue(Check{.bucket = true,
                .key = absl::StrCat(options_.prefix, ":rl:", key),
                .limit = per_second,
                .cost = cost,
                .done = std::move(done)});
}

void RedisRateLimiter::Hit(const std::string& key, int64_t max, int64_t window_seconds,
                           RateDone done) {
  // Generated once per hit, so that a retried script finds its own entry (spec/backends.md §4.2).
  std::string member = absl::StrCat(NowMs(), ":", random_, ":",
                                    sequence_.fetch_add(1, std::memory_order_relaxed));
  Enqueue(Check{.bucket = false,
                .key = absl::StrCat(options_.prefix, ":rl:", key),
                .limit = max,
                .window = window_seconds,
                .member = std::move(member),
                .done = std::move(done)});
}

void RedisRateLimiter::Enqueue(Check check) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && pending_.size() < options_.max_pending) {
      pending_.push_back(std::move(check));
      cv_.notify_one();
      return;
    }
  }
  Failed("too many checks waiting for Redis");
  check.done(RateDecision{.allowed = true, .limit = check.limit, .remaining = check.limit});
}

bool RedisRateLimiter::Pop(Check* out) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !pending_.empty(); });
  if (stopping_) return false;
  *out = std::move(pending_.front());
  pending_.pop_front();
  return true;
}

void RedisRateLimiter::Failed(const std::string& why) {
  if (options_.errors != nullptr) options_.errors->fetch_add(1, std::memory_order_relaxed);
  const int64_t n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if ((n & (n - 1)) == 0) {  // 1, 2, 4, 8, ...: no flood during an outage
    base::Logger("ratelimit")
        ->warn("rate limiter store failed, request allowed (fail open; {} in a row): {}", n, why);
  }
}

}  // namespace sockudo::dataplane::limits
