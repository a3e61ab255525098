// File: redis_bus_options.h
// The tunables both Redis bus drivers share (redis and redis-cluster). The defaults are the
// production values; tests shorten some.
// RedisTransport::Options is this struct; RedisClusterTransport::Options extends it with the
// cluster's own (redirections, topology refresh, suspect nodes).
//
//   RedisTransport::Options o;
//   o.resubscribe_delay = std::chrono::milliseconds(100);
#pragma once

#include <chrono>
#include <cstddef>

namespace sockudo::bus::redis {

struct RedisBusOptions {
  size_t queue_limit = 10000;                          // broadcast pipeline bound
  size_t pipeline_window = 1024;                       // broadcasts in flight at once
  std::chrono::milliseconds startup_timeout{5000};     // connect + subscribe at Start
  std::chrono::milliseconds connect_timeout{2000};     // per dial (TCP + TLS + AUTH + PING)
  std::chrono::milliseconds reply_timeout{10000};      // unanswered command breaks a connection
  std::chrono::milliseconds publish_retry_delay{100};  // doubling
  std::chrono::milliseconds publish_retry_max_delay{1000};
  int publish_retries = 3;
  std::chrono::milliseconds resubscribe_delay{500};  // doubling
  std::chrono::milliseconds resubscribe_max_delay{10000};
  std::chrono::milliseconds subscriber_ping_interval{5000};
  std::chrono::milliseconds count_cache{250};  // NUMSUB / SHARDNUMSUB result reuse
};

}  // namespace sockudo::bus::redis
