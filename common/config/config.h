// File: config.h
// The one typed configuration of every process (the keys of docs/configuration.md), built once at
// startup by LoadConfig() (config_loader.h) and passed around by const reference. Field names
// follow the config keys; defaults are the documented ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/apps/app.h"

namespace sockudo::config {

struct ClusterHealthConfig {
  bool enabled = true;
  int64_t heartbeat_interval_ms = 10000;
  int64_t node_timeout_ms = 30000;
  int64_t cleanup_interval_ms = 10000;
};

// TLS of one kind of Redis or NATS connection.
struct TlsConfig {
  bool enabled = false;
  bool accept_invalid_certs = false;
  std::optional<std::string> ca_path;
  std::optional<std::string> client_cert_path;
  std::optional<std::string> client_key_path;
};

struct HostPort {
  std::string host;
  int64_t port = 0;
};

// One Redis Cluster seed after normalisation.
struct RedisSeed {
  std::string host;
  int64_t port = 6379;
  std::optional<std::string> username;  // credentials embedded in the seed URL win
  std::optional<std::string> password;
  bool tls = false;
};

// Where one Redis consumer connects after REDIS_URL, the `url` options and Sentinel are applied:
// a direct endpoint, or the Sentinel set that names the master.
struct RedisTarget {
  std::string host = "127.0.0.1";
  int64_t port = 6379;
  int64_t db = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool tls = false;                 // rediss:// or master_tls.enabled
  TlsConfig tls_options;            // master_tls (CA, client certificate, verification)
  std::vector<HostPort> sentinels;  // non-empty: ask these for `sentinel_name`'s master
  std::string sentinel_name = "mymaster";
  std::optional<std::string> sentinel_username;
  std::optional<std::string> sentinel_password;
  TlsConfig sentinel_tls;
};

// database.redis: shared by every Redis consumer.
struct RedisDatabaseConfig {
  std::string host = "127.0.0.1";
  int64_t port = 6379;
  int64_t db = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::string key_prefix = "sockudo:";
  std::optional<int64_t> connection_pool_size;
  TlsConfig master_tls;
  std::vector<HostPort> sentinels;
  std::string name = "mymaster";
  std::optional<std::string> sentinel_username;
  std::optional<std::string> sentinel_password;
  TlsConfig sentinel_tls;
  struct Cluster {
    std::vector<RedisSeed> nodes;  // cluster.nodes, else the legacy cluster_nodes
    std::optional<std::string> username;
    std::optional<std::string> password;
    bool use_tls = false;
  } cluster;
};

// adapter.redis.
struct RedisAdapterConfig {
  int64_t requests_timeout = 5000;
  std::string prefix = "sockudo_adapter:";
  // Where the adapter's publish / command connections and its subscriber connect: REDIS_URL,
  // redis_pub_options.url / redis_sub_options.url, else Sentinel, else database.redis.
  RedisTarget pub;
  RedisTarget sub;
  bool cluster_mode = false;  // behave as redis-cluster
};

// adapter.cluster.
struct RedisClusterAdapterConfig {
  std::vector<RedisSeed>
      nodes;  // effective seeds (adapter.cluster.nodes, else database.redis.cluster)
  std::string prefix = "sockudo_adapter:";
  int64_t request_timeout_ms = 1000;
  bool use_connection_manager = true;
  bool use_sharded_pubsub = false;
  bool tls = false;  // any rediss:// seed, database.redis.cluster.use_tls or master_tls.enabled
  TlsConfig tls_options;
};

// adapter.nats.
struct NatsAdapterConfig {
  std::vector<std::string> servers = {"nats://localhost:4222"};
  std::string prefix = "sockudo_adapter:";
  int64_t request_timeout_ms = 5000;
  int64_t connection_timeout_ms = 5000;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> token;
  std::optional<std::string> credentials_file;
  TlsConfig tls;  // enabled by tls.ca_path or a tls:// server
  std::optional<int64_t> nodes_number;
  std::optional<int64_t> max_reconnects;  // null: unlimited
  std::optional<int64_t> presence_sync_chunk_size;
  bool no_echo = true;
  std::optional<int64_t> subscription_capacity;
};

struct AdapterConfig {
  std::string driver = "local";  // local, redis, redis-cluster, nats
  int64_t buffer_multiplier_per_cpu = 64;
  bool enable_socket_counting = true;
  bool fast_presence_transitions = false;
  bool fallback_to_local = false;
  bool aggregate_counts = false;
  ClusterHealthConfig cluster_health;
  RedisAdapterConfig redis;
  RedisClusterAdapterConfig cluster;
  NatsAdapterConfig nats;

  // True when the adapter talks to a Redis Cluster: driver `redis-cluster`, or `redis` with
  // adapter.redis.cluster_mode.
  bool UsesRedisCluster() const {
    return driver == "redis-cluster" || (driver == "redis" && redis.cluster_mode);
  }
};

// database_pooling: Redis command connections of cache, rate limiter, queue and app store (the
// adapter's connections are fixed).
struct DatabasePoolingConfig {
  bool enabled = true;
  int64_t min = 2;   // opened eagerly per consumer
  int64_t max = 10;  // upper bound per consumer unless database.redis.connection_pool_size is set
};

struct AppManagerConfig {
  std::string driver = "memory";
  std::vector<apps::App> apps;  // the effective inline list (after the default-app rules)
  std::string file_path = "config/apps.json";
  bool cache_enabled = true;
  int64_t cache_ttl = 300;
  std::string redis_prefix = "sockudo_apps:";  // app_manager.redis.prefix
  // Where the `redis` driver connects: REDIS_URL, else Sentinel / database.redis. Filled in by the
  // loader.
  RedisTarget redis;
};

struct CacheConfig {
  std::string driver = "memory";  // memory, redis, redis-cluster, none
  std::optional<std::string> redis_prefix = "sockudo_cache:";  // null: {key_prefix}cache:
  int64_t memory_ttl = 300;
  int64_t memory_cleanup_interval = 60;
  int64_t memory_max_capacity = 10000;
};

// One per-IP limit of rate_limiter: at most `max_requests` per window.
struct RateLimitWindowConfig {
  int64_t max_requests = 100;
  int64_t window_seconds = 60;
  std::string identifier;  // key scope: "api", "websocket_connect"
  int64_t trust_hops = 0;  // trusted proxies in X-Forwarded-For
};

// rate_limiter: the per-IP limits of the HTTP API and of WebSocket upgrades (when enabled) and the
// store of the per-app limits.
struct RateLimiterConfig {
  bool enabled = false;
  std::string driver = "memory";  // memory, redis, redis-cluster, none
  RateLimitWindowConfig api{.max_requests = 100, .window_seconds = 60, .identifier = "api"};
  RateLimitWindowConfig websocket{
      .max_requests = 20, .window_seconds = 60, .identifier = "websocket_connect"};
  std::optional<std::string> redis_prefix = "sockudo_rl:";  // null: {database.redis.key_prefix}rl:
};

// queue: webhook delivery jobs.
struct QueueConfig {
  std::string driver = "memory";  // memory, redis, redis-cluster, none
  int64_t redis_concurrency = 5;
  std::optional<std::string> redis_prefix = "sockudo_queue:";
  int64_t redis_response_timeout_ms = 5000;
  int64_t max_attempts = 5;
  int64_t retry_base_delay_ms = 1000;
  int64_t retry_max_delay_ms = 60000;
  double retry_jitter = 0.2;
  int64_t lease_duration_ms = 30000;
  int64_t lease_renew_interval_ms = 10000;
  int64_t stalled_batch_size = 100;
  int64_t worker_poll_interval_ms = 500;
  int64_t shutdown_timeout_ms = 30000;
  int64_t completed_retention = 1000;
  int64_t failed_retention = 10000;
  int64_t memory_capacity = 100000;
};

// webhooks: the server-wide webhook settings (batching, retry defaults, request timeout).
struct WebhooksConfig {
  bool batching_enabled = false;
  int64_t batching_duration_ms = 50;
  int64_t batching_size = 100;
  bool retry_enabled = true;
  std::optional<int64_t> retry_max_attempts;
  int64_t retry_max_elapsed_time_ms = 300000;
  int64_t retry_initial_backoff_ms = 1000;
  int64_t retry_max_backoff_ms = 60000;
  int64_t request_timeout_ms = 10000;
};

struct SslConfig {
  bool enabled = false;
  std::string cert_path;
  std::string key_path;
  std::optional<std::string> passphrase;
  std::optional<std::string> ca_path;
  bool redirect_http = false;
  int64_t http_port = 80;
};

struct CorsConfig {
  std::vector<std::string> origin = {"*"};
  std::vector<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  std::vector<std::string> allowed_headers = {"Authorization", "Content-Type", "X-Requested-With",
                                              "Accept"};
  bool credentials = true;
};

struct UnixSocketConfig {
  bool enabled = false;
  std::string path = "/var/run/sockudo/sockudo.sock";
  std::string permission_mode = "660";
};

struct MetricsConfig {
  bool enabled = true;
  std::string driver = "prometheus";
  std::string host = "0.0.0.0";
  int64_t port = 9601;
  std::string prefix = "sockudo_";
};

struct LoggingConfig {
  std::string level;  // empty: "debug" when Config::debug, else "info"
  std::string format = "human";
  bool colors_enabled = true;
  bool include_target = true;
};

struct WebSocketBufferConfig {
  std::optional<int64_t> max_messages = 1000;
  std::optional<int64_t> max_bytes;
  bool disconnect_on_buffer_full = true;
  // ext: write WebSocket frames through one io_uring per worker when the kernel allows it.
  bool io_uring = true;
};

struct HttpApiConfig {
  int64_t request_limit_in_mb = 10;
  bool usage_enabled = true;
  double accept_traffic_memory_threshold = 0.85;
};

// TLS on the control plane's gRPC and REST listeners (ext): one PEM certificate chain and key.
struct ControlPlaneTlsConfig {
  bool enabled = false;
  std::string cert_path;
  std::string key_path;
};

struct ControlPlaneConfig {
  std::optional<bool> embedded;
  std::string grpc_host = "0.0.0.0";
  int64_t grpc_port = 50051;
  std::string rest_host = "0.0.0.0";
  int64_t rest_port = 8080;
  std::optional<std::string> auth_token;
  std::optional<std::string> auth_token_file;
  ControlPlaneTlsConfig tls;
};

struct Config {
  bool debug = false;
  std::string mode = "production";
  std::string host = "0.0.0.0";
  int64_t port = 6001;
  int64_t worker_threads = 0;
  std::string path_prefix = "/";
  int64_t activity_timeout = 120;
  int64_t user_authentication_timeout = 30;
  int64_t websocket_max_payload_kb = 10240;
  int64_t max_connections = 0;
  // ext: node-wide bound on the memory of partially received input: WebSocket read buffers
  // grown past 256 bytes, fragments being assembled, HTTP API bodies being read. Past it a socket
  // is closed with 4100, an HTTP request answered 503.
  int64_t max_inbound_buffer_mb = 128;
  int64_t shutdown_grace_period = 10;
  // Drain: the 4200 closes of the open sockets are spread over this many seconds, so their
  // clients do not reconnect to the other nodes at once. The spread ends a second (at most half
  // the time) before the drain does: shutdown_grace_period less min(2 s, a quarter of it).
  int64_t shutdown_drain_spread = 0;
  int64_t health_check_timeout_ms = 2000;
  std::string server_role = "default";
  std::string process_id;

  AdapterConfig adapter;
  RedisDatabaseConfig redis;  // database.redis
  DatabasePoolingConfig database_pooling;
  AppManagerConfig app_manager;
  CacheConfig cache;
  QueueConfig queue;
  RateLimiterConfig rate_limiter;
  WebhooksConfig webhooks;
  apps::LimitDefaults limits;
  int64_t channel_cache_ttl = 3600;  // channel_limits.cache_ttl
  HttpApiConfig http_api;
  SslConfig ssl;
  CorsConfig cors;
  UnixSocketConfig unix_socket;
  MetricsConfig metrics;
  LoggingConfig logging;
  WebSocketBufferConfig websocket;
  ControlPlaneConfig control_plane;

  // Path of the file the config came from; empty when none.
  std::string source_file;

  // Most command connections one Redis consumer may open: one when pooling is off, else
  // database.redis.connection_pool_size, else database_pooling.max.
  int64_t RedisPoolSize() const {
    return database_pooling.enabled ? redis.connection_pool_size.value_or(database_pooling.max) : 1;
  }

  std::string EffectiveLogLevel() const {
    return logging.level.empty() ? (debug ? "debug" : "info") : logging.level;
  }
};

}  // namespace sockudo::config
