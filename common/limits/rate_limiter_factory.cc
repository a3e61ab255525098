#include "common/limits/rate_limiter_factory.h"

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/limits/memory_rate_limiter.h"
#include "common/limits/redis_rate_limiter.h"

namespace sockudo::limits {

absl::StatusOr<std::unique_ptr<RateLimiter>> MakeRateLimiter(const config::Config& config,
                                                             std::atomic<int64_t>* errors) {
  const std::string& driver = config.rate_limiter.driver;
  if (driver == "none") return std::unique_ptr<RateLimiter>();
  if (driver == "memory") return std::make_unique<MemoryRateLimiter>();
  RedisRateLimiterOptions o;
  SOCKUDO_ASSIGN_OR_RETURN(o.pool,
                           bus::redis::PoolOptionsFor(config, driver, "rate_limiter.driver"));
  o.pool.who = "rate limiter";
  o.prefix =
      config.rate_limiter.redis_prefix.value_or(absl::StrCat(config.redis.key_prefix, "rl:"));
  o.errors = errors;
  return std::unique_ptr<RateLimiter>(std::make_unique<RedisRateLimiter>(std::move(o)));
}

}  // namespace sockudo::limits
