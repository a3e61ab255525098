// File: redis_queue.h
// The `redis` queue driver, shared by every node: with B = "{prefix without ':'}:v2:{webhooks}",
// ready ids in the list B:wait, retries in the sorted set B:delayed (by due time), claimed jobs in
// B:active (by lease deadline) with their lease token in B:tokens, payloads in B:jobs, dead letters
// in B:dlq with their reason in B:failures; idle workers block on B:notify. Each operation is one
// Lua script (atomic; every key shares the {webhooks} hash tag). At least once: a claimed job whose
// lease runs out (its worker died) goes back to ready when another worker claims; after
// queue.reliability.max_attempts expiries it is dead-lettered (`lease-expired`). Ack / Retry /
// DeadLetter only act with the current lease token.
//
// The `redis-cluster` driver is the same queue on a Redis Cluster: its keys share one hash slot,
// so every command goes to that slot's master. Given `seeds`, the queue starts at the first one,
// follows MOVED to the owner and keeps using it; when the node it uses cannot be reached, the
// next call starts again from the next seed. (While the slot migrates, an ASK reply is an error
// and the operation is tried again later, as after any failure.)
//
// Blocking hiredis connections (connect / reply timeout queue.redis.response_timeout_ms), a small
// pool dialled on demand; a broken connection is dropped and dialled again by the next call.
// Thread-safe; meant for the dispatcher's threads only.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"
#include "common/bus/redis_cluster/cluster_topology.h"
#include "common/config/config.h"
#include "dataplane/webhooks/queue/queue.h"

struct redisContext;

namespace sockudo::dataplane::webhooks {

class RedisQueue : public Queue {
 public:
  struct Options {
    config::RedisTarget target;
    std::vector<config::RedisTarget> seeds;  // non-empty: Redis Cluster (target is ignored)
    std::string prefix = "sockudo_queue:";
    std::chrono::milliseconds timeout{5000};
    std::chrono::milliseconds lease{30000};
    int64_t max_lease_expiries = 5;
    int64_t batch = 100;
    int64_t failed_retention = 10000;
  };
  // Dials once to check the endpoint.
  static absl::StatusOr<std::unique_ptr<RedisQueue>> Connect(Options options);
  ~RedisQueue() override;

  // Queue
  absl::Status Enqueue(const std::string& payload) override;
  std::optional<QueuedJob> Claim(std::chrono::milliseconds wait) override;
  void Ack(const QueuedJob& job) override;
  void Retry(const QueuedJob& job, const std::string& payload,
             std::chrono::milliseconds delay) override;
  void DeadLetter(const QueuedJob& job, std::string_view reason) override;
  QueueDepth Depth() override;
  void Wake() override;
  const char* name() const override { return options_.seeds.empty() ? "redis" : "redis-cluster"; }

  const std::string& base() const { return base_; }

 private:
  explicit RedisQueue(Options options);
  absl::StatusOr<redisContext*> Acquire();
  void Release(redisContext* c, bool broken);
  // Redis Cluster: where commands go now; moving there drops the pooled connections.
  config::RedisTarget Current();
  void MoveTo(const bus::redis_cluster::NodeAddress& owner);  // of a MOVED reply
  void NextSeed();
  // One command on a pooled connection to `at` (Current()); an error reply is returned as is.
  absl::StatusOr<bus::redis::RedisReply> RunOnce(const config::RedisTarget& at,
                                                 const std::vector<std::string>& argv,
                                                 std::chrono::milliseconds timeout);
  absl::StatusOr<bus::redis::RedisReply> Run(const std::vector<std::string>& argv,
                                             std::chrono::milliseconds timeout);
  std::optional<QueuedJob> ClaimOnce();
  void LogError(const absl::Status& st);
  std::string Key(std::string_view suffix) const { return base_ + ":" + std::string(suffix); }

  const Options options_;
  const std::string base_;
  const std::string node_;  // lease token prefix
  std::atomic<uint64_t> seq_{0};
  std::atomic<bool> woken_{false};
  std::mutex mu_;
  std::vector<redisContext*> idle_ ABSL_GUARDED_BY(mu_);
  config::RedisTarget current_ ABSL_GUARDED_BY(mu_);  // the slot owner (cluster) or the target
  size_t seed_ ABSL_GUARDED_BY(mu_) = 0;
  std::mutex log_mu_;
  std::chrono::steady_clock::time_point last_log_ ABSL_GUARDED_BY(log_mu_);
};

}  // namespace sockudo::dataplane::webhooks
