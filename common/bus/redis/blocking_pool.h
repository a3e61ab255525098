// File: blocking_pool.h
// Redis commands for consumers that must never wait on a worker thread (rate limiter, cache):
// a few threads of their own, each with blocking connections (blocking_redis.h), take commands
// from bounded queues and hand each reply to its callback on that thread. Commands on the same
// key go to the same thread, so they run in the order they were issued (the last SET wins).
//
// Scripts given at construction are loaded on every connection (SCRIPT LOAD) and run with
// EVALSHA; a NOSCRIPT reply (a flushed or restarted server) loads them again and retries once.
// With `cluster`, a command goes to the owner of its key's slot as learned from MOVED replies
// (the first seed before that); MOVED and ASK are followed. After a failed dial an address is
// not dialled again for 1 s: commands for it fail at once meanwhile.
//
// Errors reach the callback as a status: UNAVAILABLE (no connection, broken connection, timeout,
// queue full, shutting down) or INTERNAL (a server error reply, with its text).
//
//   BlockingRedisPool pool({.endpoints = {target}, .who = "cache"}, {kScript});
//   pool.Command("k", {"GET", "k"}, [](absl::StatusOr<RedisReply> r) { ... });  // pool thread
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"
#include "common/config/config.h"

namespace sockudo::bus::redis {

struct BlockingPoolOptions {
  std::vector<config::RedisTarget> endpoints;  // one server, or the cluster seeds
  bool cluster = false;
  std::chrono::milliseconds timeout{1000};  // connect and reply
  int threads = 2;
  size_t max_pending = 10000;
  std::string who = "redis";  // in error texts
};

using ReplyDone = std::function<void(absl::StatusOr<RedisReply>)>;

// Where a consumer whose driver key `driver_key` (e.g. "cache.driver") says `redis` or
// `redis-cluster` connects: database.redis after REDIS_URL, or the Redis Cluster seeds with the
// credentials the config loader resolved for them. TLS and Sentinel
// endpoints are refused with an error naming `driver_key` (not available in this pool).
absl::StatusOr<BlockingPoolOptions> PoolOptionsFor(const config::Config& config,
                                                   std::string_view driver,
                                                   std::string_view driver_key);

class BlockingRedisPool {
 public:
  BlockingRedisPool(BlockingPoolOptions options, std::vector<std::string> scripts = {});
  // Shutdown().
  ~BlockingRedisPool();

  // Stops the threads (after the command each is running) and answers what is still queued with
  // UNAVAILABLE, on the calling thread; later commands are answered so at once. Idempotent. The
  // owner calls it while the threads its callbacks post to still exist.
  void Shutdown();

  // Waits until nothing is queued or running (callbacks that issue more commands included), for
  // at most `limit`. False when the limit passed first.
  bool Drain(std::chrono::milliseconds limit);

  // Runs `argv`; `key` routes it in a cluster.
  void Command(std::string key, std::vector<std::string> argv, ReplyDone done);
  // EVALSHA of script `index` with KEYS[1] = `key` and ARGV = `args`.
  void Script(size_t index, std::string key, std::vector<std::string> args, ReplyDone done);

 private:
  struct Job {
    std::string key;
    std::vector<std::string> argv;
    int script = -1;  // >= 0: argv are the script's arguments
    ReplyDone done;
  };
  class Worker;

  void Enqueue(Job job);
  bool Pop(size_t thread, Job* out);
  void Finished();

  const BlockingPoolOptions options_;
  const std::vector<std::string> scripts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::deque<Job>> pending_ ABSL_GUARDED_BY(mu_);  // one queue per thread
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace sockudo::bus::redis
