#include "dataplane/webhooks/queue/redis_queue.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/bus/redis/blocking_redis.h"
#include "common/bus/redis_cluster/cluster_router.h"
#include "common/crypto/hmac.h"

namespace sockudo::dataplane::webhooks {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// KEYS: wait jobs notify seq. ARGV: payload.
constexpr char kEnqueue[] = R"(
local id = tostring(redis.call('INCR', KEYS[4]))
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('LPUSH', KEYS[1], id)
redis.call('LPUSH', KEYS[3], '1')
redis.call('LTRIM', KEYS[3], 0, 1023)
return id)";

// KEYS: wait delayed active tokens jobs expiries dlq failures.
// ARGV: now lease_deadline token batch max_expiries.
constexpr char kClaim[] = R"(
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  local n = redis.call('HINCRBY', KEYS[6], id, 1)
  if n >= tonumber(ARGV[5]) then
    redis.call('ZADD', KEYS[7], ARGV[1], id)
    redis.call('HSET', KEYS[8], id, 'lease-expired')
  else
    redis.call('RPUSH', KEYS[1], id)
  end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('RPUSH', KEYS[1], id)
end
for i = 1, 16 do
  local id = redis.call('RPOP', KEYS[1])
  if not id then return false end
  local payload = redis.call('HGET', KEYS[5], id)
  if payload then
    redis.call('HSET', KEYS[4], id, ARGV[3])
    redis.call('ZADD', KEYS[3], ARGV[2], id)
    return {id, payload}
  end
end
return false)";

// KEYS: active tokens jobs expiries. ARGV: id token.
constexpr char kAck[] = R"(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1)";

// KEYS: active tokens jobs delayed. ARGV: id token payload due.
constexpr char kRetry[] = R"(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1)";

// KEYS: active tokens jobs dlq failures. ARGV: id token now reason retention.
constexpr char kDeadLetter[] = R"(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[4])
local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[5])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, over - 1)) do
    redis.call('ZREM', KEYS[4], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[5], id)
  end
end
return 1)";

std::string BaseOf(const std::string& prefix) {
  std::string p = prefix;
  while (!p.empty() && p.back() == ':') p.pop_back();
  return absl::StrCat(p, ":v2:{webhooks}");
}

}  // namespace

RedisQueue::RedisQueue(Options options)
    : options_(std::move(options)),
      base_(BaseOf(options_.prefix)),
      node_(crypto::HmacSha256Hex(std::to_string(NowMs()),
                                  std::to_string(crypto::SecureRandom(UINT64_MAX)))
                .substr(0, 12)),
      current_(options_.seeds.empty() ? options_.target : options_.seeds.front()) {}

RedisQueue::~RedisQueue() {
  std::lock_guard lock(mu_);
  for (redisContext* c : idle_) redisFree(c);
  idle_.clear();
}

absl::StatusOr<std::unique_ptr<RedisQueue>> RedisQueue::Connect(Options options) {
  std::unique_ptr<RedisQueue> q(new RedisQueue(std::move(options)));
  auto c = q->Acquire();
  if (!c.ok()) return c.status();
  q->Release(*c, false);
  return q;
}

absl::StatusOr<redisContext*> RedisQueue::Acquire() {
  config::RedisTarget target;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    target = current_;
  }
  auto c = bus::redis::DialBlocking(
      target, options_.timeout.count() > 0 ? options_.timeout : std::chrono::milliseconds(5000),
      "webhook queue");
  if (!c.ok()) NextSeed();
  return c;
}

config::RedisTarget RedisQueue::Current() {
  std::lock_guard lock(mu_);
  return current_;
}

void RedisQueue::MoveTo(const bus::redis_cluster::NodeAddress& owner) {
  std::vector<redisContext*> dropped;
  {
    std::lock_guard lock(mu_);
    current_.host = owner.host;
    current_.port = owner.port;
    dropped = std::exchange(idle_, {});
  }
  for (redisContext* c : dropped) redisFree(c);
}

void RedisQueue::NextSeed() {
  if (options_.seeds.empty()) return;
  std::vector<redisContext*> dropped;
  {
    std::lock_guard lock(mu_);
    seed_ = (seed_ + 1) % options_.seeds.size();
    current_ = options_.seeds[seed_];
    dropped = std::exchange(idle_, {});
  }
  for (redisContext* c : dropped) redisFree(c);
}

void RedisQueue::Release(redisContext* c, bool broken) {
  if (broken) {
    redisFree(c);
    return;
  }
  std::lock_guard lock(mu_);
  idle_.push_back(c);
}

absl::StatusOr<bus::redis::RedisReply> RedisQueue::Run(const std::vector<std::string>& argv,
                                                       std::chrono::milliseconds timeout) {
  // Redis Cluster: up to two redirections to the slot's owner (from a seed, then after a
  // failover moved it again).
  for (int redirects = 0;; ++redirects) {
    const config::RedisTarget at = Current();
    auto out = RunOnce(at, argv, timeout);
    if (!out.ok()) return out.status();
    if (out->type != bus::redis::RedisReply::Type::kError) return out;
    if (!options_.seeds.empty() && redirects < 2) {
      const auto redirect = bus::redis_cluster::ParseRedirect(out->str, at.host);
      if (redirect.kind == bus::redis_cluster::Redirect::Kind::kMoved) {
        MoveTo(redirect.to);
        continue;
      }
    }
    return absl::InternalError(absl::StrCat("webhook queue: Redis error: ", out->str));
  }
}

absl::StatusOr<bus::redis::RedisReply> RedisQueue::RunOnce(const config::RedisTarget& at,
                                                           const std::vector<std::string>& argv,
                                                           std::chrono::milliseconds timeout) {
  auto c = Acquire();
  if (!c.ok()) return c.status();
  if (timeout.count() > 0) bus::redis::SetBlockingTimeout(*c, timeout);
  auto out = bus::redis::CommandBlocking(*c, argv);
  if (!out.ok()) {
    Release(*c, true);
    NextSeed();
    return absl::UnavailableError(absl::StrCat("webhook queue: Redis ", at.host, ":", at.port,
                                               ": ", out.status().message()));
  }
  if (timeout.count() > 0 && timeout != options_.timeout && options_.timeout.count() > 0) {
    bus::redis::SetBlockingTimeout(*c, options_.timeout);
  }
  Release(*c, false);
  return out;
}

void RedisQueue::LogError(const absl::Status& st) {
  std::lock_guard lock(log_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log_ < std::chrono::seconds(10)) return;
  last_log_ = now;
  base::Logger("webhooks")->error("{}", std::string(st.message()));
}

absl::Status RedisQueue::Enqueue(const std::string& payload) {
  auto r =
      Run({"EVAL", kEnqueue, "4", Key("wait"), Key("jobs"), Key("notify"), Key("seq"), payload},
          options_.timeout);
  if (!r.ok()) {
    LogError(r.status());
    return r.status();
  }
  return absl::OkStatus();
}

std::optional<QueuedJob> RedisQueue::ClaimOnce() {
  const int64_t now = NowMs();
  const std::string token = absl::StrCat(node_, ":", seq_.fetch_add(1) + 1);
  auto r = Run({"EVAL", kClaim, "8", Key("wait"), Key("delayed"), Key("active"), Key("tokens"),
                Key("jobs"), Key("expiries"), Key("dlq"), Key("failures"), std::to_string(now),
                std::to_string(now + options_.lease.count()), token, std::to_string(options_.batch),
                std::to_string(options_.max_lease_expiries)},
               options_.timeout);
  if (!r.ok()) {
    LogError(r.status());
    return std::nullopt;
  }
  if (!r->is_array() || r->elements.size() != 2) return std::nullopt;
  return QueuedJob{r->elements[0].str, r->elements[1].str, token};
}

std::optional<QueuedJob> RedisQueue::Claim(std::chrono::milliseconds wait) {
  if (auto job = ClaimOnce()) return job;
  if (woken_.load()) return std::nullopt;
  // Idle: block on the wake-up list for at most `wait` (BRPOP takes seconds as a decimal).
  const std::string secs = absl::StrCat(static_cast<double>(wait.count()) / 1000.0);
  auto r = Run({"BRPOP", Key("notify"), secs}, wait + std::chrono::milliseconds(1000));
  if (!r.ok()) {
    LogError(r.status());
    return std::nullopt;
  }
  return ClaimOnce();
}

void RedisQueue::Ack(const QueuedJob& job) {
  auto r = Run({"EVAL", kAck, "4", Key("active"), Key("tokens"), Key("jobs"), Key("expiries"),
                job.id, job.token},
               options_.timeout);
  if (!r.ok()) LogError(r.status());
}

void RedisQueue::Retry(const QueuedJob& job, const std::string& payload,
                       std::chrono::milliseconds delay) {
  auto r = Run({"EVAL", kRetry, "4", Key("active"), Key("tokens"), Key("jobs"), Key("delayed"),
                job.id, job.token, payload, std::to_string(NowMs() + delay.count())},
               options_.timeout);
  if (!r.ok()) LogError(r.status());
}

void RedisQueue::DeadLetter(const QueuedJob& job, std::string_view reason) {
  auto r = Run({"EVAL", kDeadLetter, "5", Key("active"), Key("tokens"), Key("jobs"), Key("dlq"),
                Key("failures"), job.id, job.token, std::to_string(NowMs()), std::string(reason),
                std::to_string(options_.failed_retention)},
               options_.timeout);
  if (!r.ok()) LogError(r.status());
}

QueueDepth RedisQueue::Depth() {
  QueueDepth d;
  auto get = [&](std::vector<std::string> argv) -> int64_t {
    auto r = Run(argv, options_.timeout);
    return r.ok() ? r->integer : 0;
  };
  d.wait = get({"LLEN", Key("wait")});
  d.delayed = get({"ZCARD", Key("delayed")});
  d.active = get({"ZCARD", Key("active")});
  d.dlq = get({"ZCARD", Key("dlq")});
  return d;
}

void RedisQueue::Wake() { woken_.store(true); }

}  // namespace sockudo::dataplane::webhooks
