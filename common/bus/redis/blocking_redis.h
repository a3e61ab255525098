// File: blocking_redis.h
// Blocking hiredis calls for the Redis consumers that run on threads of their own rather than on
// an io_context: the `redis` app store and the webhook queue. Dial (TCP with a timeout, then
// AUTH and SELECT as the target says) and one command whose reply is copied out as a RedisReply.
// Sentinel and TLS targets are not handled here (the callers refuse them).
//
//   SOCKUDO_ASSIGN_OR_RETURN(redisContext* c, DialBlocking(target, 100ms, "app store"));
//   absl::StatusOr<RedisReply> r = CommandBlocking(c, {"GET", key});   // c broken when !ok
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bus/redis/redis_connection.h"
#include "common/config/config.h"

struct redisContext;

namespace sockudo::bus::redis {

// A connected, authenticated context with `timeout` as connect and reply timeout; the caller
// frees it with redisFree. UNAVAILABLE naming `who` and the address otherwise.
absl::StatusOr<redisContext*> DialBlocking(const config::RedisTarget& target,
                                           std::chrono::milliseconds timeout, std::string_view who);

// Runs one command. A server error comes back as a reply of type kError; a broken connection as
// UNAVAILABLE (the context must then be freed, not reused).
absl::StatusOr<RedisReply> CommandBlocking(redisContext* context,
                                           const std::vector<std::string>& argv);

// Sets the context's reply timeout.
void SetBlockingTimeout(redisContext* context, std::chrono::milliseconds timeout);

}  // namespace sockudo::bus::redis
