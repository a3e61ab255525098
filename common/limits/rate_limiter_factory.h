// File: rate_limiter_factory.h
// The rate limiter `rate_limiter.driver` names: `memory`, `redis` (database.redis after REDIS_URL),
// `redis-cluster` (the cluster seeds), or null for `none`.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/limits/rate_limiter.h"

namespace sockudo::limits {

// `errors` counts store failures (may be null). Errors name the config key.
absl::StatusOr<std::unique_ptr<RateLimiter>> MakeRateLimiter(const config::Config& config,
                                                             std::atomic<int64_t>* errors);

}  // namespace sockudo::limits
