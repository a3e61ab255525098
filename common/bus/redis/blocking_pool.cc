#include "common/bus/redis/blocking_pool.h"

#include <hiredis/hiredis.h>

#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/bus/redis/blocking_redis.h"
#include "common/bus/redis_cluster/cluster_slot.h"

namespace sockudo::bus::redis {
namespace {

std::string Address(const config::RedisTarget& t) { return absl::StrCat(t.host, ":", t.port); }

}  // namespace

// One thread: its connections (one per server address) and the script SHAs each server knows.
class BlockingRedisPool::Worker {
 public:
  Worker(BlockingRedisPool* pool, size_t index) : pool_(pool), index_(index) {}
  ~Worker() {
    for (auto& [address, c] : connections_) redisFree(c.context);
  }

  void Run() {
    Job job;
    while (pool_->Pop(index_, &job)) {
      job.done(Execute(job));
      job = Job{};
      pool_->Finished();
    }
  }

 private:
  struct Connection {
    redisContext* context = nullptr;
    std::vector<std::string> shas;
  };

  absl::StatusOr<RedisReply> Execute(const Job& job) {
    const BlockingPoolOptions& o = pool_->options_;
    std::string address = Address(o.endpoints.front());
    if (o.cluster) {
      if (auto it = slot_owner_.find(redis_cluster::KeySlot(job.key)); it != slot_owner_.end()) {
        address = it->second;
      }
    }
    bool asking = false;
    bool reloaded = false;
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto conn = Connect(address);
      if (!conn.ok()) {
        // A cluster node that went away: ask another seed, which redirects.
        if (o.cluster && attempt == 0 && o.endpoints.size() > 1) {
          address = Address(o.endpoints[++seed_ % o.endpoints.size()]);
          continue;
        }
        return conn.status();
      }
      Connection& c = **conn;
      if (asking) {
        auto r = CommandBlocking(c.context, {"ASKING"});
        if (!r.ok()) return Broken(address, r.status());
        asking = false;
      }
      std::vector<std::string> argv;
      if (job.script >= 0) {
        argv = {"EVALSHA", c.shas[static_cast<size_t>(job.script)], "1", job.key};
        argv.insert(argv.end(), job.argv.begin(), job.argv.end());
      }
      auto r = CommandBlocking(c.context, job.script >= 0 ? argv : job.argv);
      if (!r.ok()) return Broken(address, r.status());
      if (r->type != RedisReply::Type::kError) return r;
      if (absl::StartsWith(r->str, "NOSCRIPT") && !reloaded) {
        reloaded = true;
        if (absl::Status st = LoadScripts(c); !st.ok()) return Broken(address, st);
        continue;
      }
      if (o.cluster && (absl::StartsWith(r->str, "MOVED ") || absl::StartsWith(r->str, "ASK "))) {
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
      return absl::InternalError(absl::StrCat(o.who, ": Redis at ", address, ": ", r->str));
    }
    return absl::UnavailableError(absl::StrCat(o.who, ": too many Redis Cluster redirections"));
  }

  absl::StatusOr<Connection*> Connect(const std::string& address) {
    if (auto it = connections_.find(address); it != connections_.end()) return &it->second;
    const auto now = std::chrono::steady_clock::now();
    const BlockingPoolOptions& o = pool_->options_;
    if (auto down = down_until_.find(address); down != down_until_.end() && now < down->second) {
      return absl::UnavailableError(absl::StrCat(o.who, ": Redis at ", address, " is down"));
    }
    config::RedisTarget target = o.endpoints.front();
    std::pair<std::string, std::string> host_port =
        absl::StrSplit(address, absl::MaxSplits(':', 1));
    target.host = host_port.first;
    if (!absl::SimpleAtoi(host_port.second, &target.port)) target.port = 6379;
    auto context = DialBlocking(target, o.timeout, o.who);
    Connection c;
    absl::Status st = context.status();
    if (st.ok()) {
      c.context = *context;
      st = LoadScripts(c);
      if (!st.ok()) redisFree(c.context);
    }
    if (!st.ok()) {
      down_until_[address] = now + std::chrono::seconds(1);
      return st;
    }
    down_until_.erase(address);
    return &connections_.emplace(address, std::move(c)).first->second;
  }

  absl::Status LoadScripts(Connection& c) {
    c.shas.clear();
    for (const std::string& script : pool_->scripts_) {
      auto r = CommandBlocking(c.context, {"SCRIPT", "LOAD", script});
      if (!r.ok()) return r.status();
      if (r->type == RedisReply::Type::kError) return absl::UnavailableError(r->str);
      c.shas.push_back(r->str);
    }
    return absl::OkStatus();
  }

  absl::Status Broken(const std::string& address, const absl::Status& why) {
    if (auto it = connections_.find(address); it != connections_.end()) {
      redisFree(it->second.context);
      connections_.erase(it);
    }
    return absl::UnavailableError(
        absl::StrCat(pool_->options_.who, ": Redis at ", address, ": ", why.message()));
  }

  BlockingRedisPool* pool_;
  const size_t index_;
  std::map<std::string, Connection> connections_;
  std::map<std::string, std::chrono::steady_clock::time_point> down_until_;
  std::map<uint16_t, std::string> slot_owner_;
  size_t seed_ = 0;
};

absl::StatusOr<BlockingPoolOptions> PoolOptionsFor(const config::Config& config,
                                                   std::string_view driver,
                                                   std::string_view driver_key) {
  BlockingPoolOptions o;
  o.who = std::string(driver_key.substr(0, driver_key.find('.')));
  if (driver == "redis") {
    const config::RedisTarget& target = config.app_manager.redis;  // database.redis, REDIS_URL
    if (target.tls || !target.sentinels.empty()) {
      return absl::UnimplementedError(absl::StrCat(
          std::string(driver_key), ": \"redis\" over TLS or Sentinel is not available in this build (use a "
                      "direct redis:// endpoint)"));
    }
    o.endpoints = {target};
    return o;
  }
  if (driver != "redis-cluster") {
    return absl::InvalidArgumentError(absl::StrCat(std::string(driver_key), ": not a Redis driver: ", std::string(driver)));
  }
  const auto& seeds = config.adapter.cluster.nodes;
  if (seeds.empty()) {
    return absl::InvalidArgumentError("adapter.cluster.nodes: no Redis Cluster seed nodes configured");
  }
  if (config.adapter.cluster.tls) {
    return absl::UnimplementedError(absl::StrCat(
        std::string(driver_key), ": \"redis-cluster\" over TLS is not available in this build"));
  }
  // The loader already gave every seed its credentials (seed, cluster, database.redis).
  for (const config::RedisSeed& seed : seeds) {
    config::RedisTarget t;
    t.host = seed.host;
    t.port = seed.port;
    t.username = seed.username;
    t.password = seed.password;
    o.endpoints.push_back(std::move(t));
  }
  o.cluster = true;
  return o;
}

BlockingRedisPool::BlockingRedisPool(BlockingPoolOptions options, std::vector<std::string> scripts)
    : options_(std::move(options)), scripts_(std::move(scripts)) {
  const size_t n = static_cast<size_t>(std::max(1, options_.threads));
  {
    std::lock_guard lock(mu_);
    pending_.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this, i] { Worker(this, i).Run(); });
  }
}

BlockingRedisPool::~BlockingRedisPool() { Shutdown(); }

void BlockingRedisPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::vector<Job> left;
  {
    std::lock_guard lock(mu_);
    for (auto& queue : pending_) {
      for (Job& job : queue) left.push_back(std::move(job));
      queue.clear();
    }
    queued_ = 0;
  }
  for (Job& job : left) job.done(absl::UnavailableError(absl::StrCat(options_.who, ": shutting down")));
}

void BlockingRedisPool::Command(std::string key, std::vector<std::string> argv, ReplyDone done) {
  Enqueue(Job{.key = std::move(key), .argv = std::move(argv), .done = std::move(done)});
}

void BlockingRedisPool::Script(size_t index, std::string key, std::vector<std::string> args,
                               ReplyDone done) {
  Enqueue(Job{.key = std::move(key),
              .argv = std::move(args),
              .script = static_cast<int>(index),
              .done = std::move(done)});
}

void BlockingRedisPool::Enqueue(Job job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queued_ < options_.max_pending) {
      const size_t thread = std::hash<std::string>{}(job.key) % pending_.size();
      pending_[thread].push_back(std::move(job));
      ++queued_;
      cv_.notify_all();
      return;
    }
  }
  job.done(absl::UnavailableError(absl::StrCat(options_.who, ": too many commands waiting")));
}

bool BlockingRedisPool::Pop(size_t thread, Job* out) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this, thread]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !pending_[thread].empty();
  });
  if (stopping_) return false;
  *out = std::move(pending_[thread].front());
  pending_[thread].pop_front();
  --queued_;
  ++running_;
  return true;
}

void BlockingRedisPool::Finished() {
  {
    std::lock_guard lock(mu_);
    --running_;
  }
  cv_.notify_all();
}

bool BlockingRedisPool::Drain(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, limit, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (queued_ == 0 && running_ == 0);
  });
}

}  // namespace sockudo::bus::redis
