// File: config.h
// The one typed configuration of every process (spec/config.md), built once at startup by
// LoadConfig() (config_loader.h) and passed around by const reference. Field names follow the
// config keys; defaults are the spec's.
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

struct AdapterConfig {
  std::string driver = "local";
  int64_t buffer_multiplier_per_cpu = 64;
  bool enable_socket_counting = true;
  bool fast_presence_transitions = false;
  bool fallback_to_local = false;
  bool aggregate_counts = false;
  ClusterHealthConfig cluster_health;
};

struct AppManagerConfig {
  std::string driver = "memory";
  std::vector<apps::App> apps;  // the effective inline list (after the default-app rules)
  std::string file_path = "config/apps.json";
  bool cache_enabled = true;
  int64_t cache_ttl = 300;
};

struct CacheConfig {
  std::string driver = "memory";
  int64_t memory_ttl = 300;
  int64_t memory_cleanup_interval = 60;
  int64_t memory_max_capacity = 10000;
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

struct ControlPlaneConfig {
  std::optional<bool> embedded;
  std::string grpc_host = "0.0.0.0";
  int64_t grpc_port = 50051;
  std::string rest_host = "0.0.0.0";
  int64_t rest_port = 8080;
  std::optional<std::string> auth_token;
  std::optional<std::string> auth_token_file;
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
  int64_t health_check_timeout_ms = 2000;
  std::string server_role = "default";
  std::string process_id;

  AdapterConfig adapter;
  AppManagerConfig app_manager;
  CacheConfig cache;
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

  std::string EffectiveLogLevel() const {
    return logging.level.empty() ? (debug ? "debug" : "info") : logging.level;
  }
};

}  // namespace sockudo::config
