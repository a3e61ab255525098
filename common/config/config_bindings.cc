#include "common/config/config_bindings.h"

namespace sockudo::config::internal {

std::vector<Binding> Bindings(Config& c) {
  constexpr int64_t kMaxPort = 65535;
  return {
      // §2 Server
      {.path = "debug", .target = &c.debug, .env = {"DEBUG_MODE"}},
      {.path = "mode", .target = &c.mode, .env = {"ENVIRONMENT"}},
      {.path = "host", .target = &c.host, .env = {"HOST"}},
      {.path = "port", .target = &c.port, .env = {"PORT"}, .min = 1, .max = kMaxPort},
      {.path = "worker_threads", .target = &c.worker_threads, .env = {"WORKER_THREADS"}, .min = 0, .max = 1024},
      {.path = "path_prefix", .target = &c.path_prefix},
      {.path = "activity_timeout", .target = &c.activity_timeout, .env = {"ACTIVITY_TIMEOUT"}, .min = 1},
      {.path = "user_authentication_timeout", .target = &c.user_authentication_timeout,
       .env = {"USER_AUTHENTICATION_TIMEOUT"}, .min = 1},
      {.path = "websocket_max_payload_kb", .target = &c.websocket_max_payload_kb,
       .env = {"WEBSOCKET_MAX_PAYLOAD_KB"}, .min = 1, .max = 1024 * 1024},
      {.path = "max_connections", .target = &c.max_connections, .env = {"SOCKUDO_MAX_CONNECTIONS"}, .min = 0},
      {.path = "shutdown_grace_period", .target = &c.shutdown_grace_period, .env = {"SHUTDOWN_GRACE_PERIOD"}, .min = 0},
      {.path = "health_check_timeout_ms", .target = &c.health_check_timeout_ms,
       .env = {"HEALTH_CHECK_TIMEOUT_MS"}, .min = 1},
      {.path = "server_role", .target = &c.server_role, .env = {"SOCKUDO_SERVER_ROLE"}},
      {.path = "instance.process_id", .target = &c.process_id, .env = {"INSTANCE_PROCESS_ID"}},

      // §3 Adapter
      {.path = "adapter.driver", .target = &c.adapter.driver, .env = {"ADAPTER_DRIVER"},
       .choices = {"local", "redis", "redis-cluster", "nats"}, .driver = true},
      {.path = "adapter.buffer_multiplier_per_cpu", .target = &c.adapter.buffer_multiplier_per_cpu,
       .env = {"ADAPTER_BUFFER_MULTIPLIER_PER_CPU"}, .min = 1},
      {.path = "adapter.enable_socket_counting", .target = &c.adapter.enable_socket_counting,
       .env = {"ADAPTER_ENABLE_SOCKET_COUNTING"}},
      {.path = "adapter.fast_presence_transitions", .target = &c.adapter.fast_presence_transitions,
       .env = {"ADAPTER_FAST_PRESENCE_TRANSITIONS"}},
      {.path = "adapter.fallback_to_local", .target = &c.adapter.fallback_to_local,
       .env = {"ADAPTER_FALLBACK_TO_LOCAL"}},
      {.path = "adapter.aggregate_counts", .target = &c.adapter.aggregate_counts,
       .env = {"ADAPTER_AGGREGATE_COUNTS"}},
      {.path = "adapter.cluster_health.enabled", .target = &c.adapter.cluster_health.enabled,
       .env = {"ADAPTER_CLUSTER_HEALTH_ENABLED", "CLUSTER_HEALTH_ENABLED"}},
      {.path = "adapter.cluster_health.heartbeat_interval_ms",
       .target = &c.adapter.cluster_health.heartbeat_interval_ms,
       .env = {"ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS", "CLUSTER_HEALTH_HEARTBEAT_INTERVAL"}},
      {.path = "adapter.cluster_health.node_timeout_ms", .target = &c.adapter.cluster_health.node_timeout_ms,
       .env = {"ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS", "CLUSTER_HEALTH_NODE_TIMEOUT"}},
      {.path = "adapter.cluster_health.cleanup_interval_ms",
       .target = &c.adapter.cluster_health.cleanup_interval_ms,
       .env = {"ADAPTER_CLUSTER_HEALTH_CLEANUP_INTERVAL_MS", "CLUSTER_HEALTH_CLEANUP_INTERVAL"}},

      // §7 Apps
      {.path = "app_manager.driver", .target = &c.app_manager.driver, .env = {"APP_MANAGER_DRIVER"},
       .choices = {"memory", "file", "redis"}, .driver = true},
      {.path = "app_manager.file.path", .target = &c.app_manager.file_path, .env = {"APP_MANAGER_FILE_PATH"}},
      {.path = "app_manager.cache.enabled", .target = &c.app_manager.cache_enabled},
      {.path = "app_manager.cache.ttl", .target = &c.app_manager.cache_ttl, .env = {"CACHE_TTL_SECONDS"}, .min = 0},

      // §8 Cache
      {.path = "cache.driver", .target = &c.cache.driver, .env = {"CACHE_DRIVER"},
       .choices = {"memory", "redis", "redis-cluster", "none"}, .driver = true},
      {.path = "cache.memory.ttl", .target = &c.cache.memory_ttl, .env = {"CACHE_TTL_SECONDS"}, .min = 0},
      {.path = "cache.memory.cleanup_interval", .target = &c.cache.memory_cleanup_interval,
       .env = {"CACHE_CLEANUP_INTERVAL"}, .min = 1},
      {.path = "cache.memory.max_capacity", .target = &c.cache.memory_max_capacity,
       .env = {"CACHE_MAX_CAPACITY"}, .min = 1},

      // §12 Limits
      {.path = "channel_limits.max_name_length", .target = &c.limits.max_channel_name_length, .min = 1},
      {.path = "channel_limits.cache_ttl", .target = &c.channel_cache_ttl, .env = {"CACHE_TTL_SECONDS"}, .min = 0},
      {.path = "event_limits.max_channels_at_once", .target = &c.limits.max_event_channels_at_once, .min = 1},
      {.path = "event_limits.max_name_length", .target = &c.limits.max_event_name_length, .min = 1},
      {.path = "event_limits.max_payload_in_kb", .target = &c.limits.max_event_payload_in_kb, .dmin = 1},
      {.path = "event_limits.max_batch_size", .target = &c.limits.max_event_batch_size, .min = 1},
      {.path = "presence.max_members_per_channel", .target = &c.limits.max_presence_members_per_channel, .min = 1},
      {.path = "presence.max_member_size_in_kb", .target = &c.limits.max_presence_member_size_in_kb, .dmin = 0.001},
      {.path = "http_api.request_limit_in_mb", .target = &c.http_api.request_limit_in_mb, .min = 1, .max = 1024},
      {.path = "http_api.usage_enabled", .target = &c.http_api.usage_enabled, .env = {"HTTP_API_USAGE_ENABLED"}},
      {.path = "http_api.accept_traffic.memory_threshold", .target = &c.http_api.accept_traffic_memory_threshold,
       .dmin = 0, .dmax = 1},

      // §13 Listeners
      {.path = "ssl.enabled", .target = &c.ssl.enabled, .env = {"SSL_ENABLED"}},
      {.path = "ssl.cert_path", .target = &c.ssl.cert_path, .env = {"SSL_CERT_PATH"}},
      {.path = "ssl.key_path", .target = &c.ssl.key_path, .env = {"SSL_KEY_PATH"}},
      {.path = "ssl.passphrase", .target = &c.ssl.passphrase, .secret = true},
      {.path = "ssl.ca_path", .target = &c.ssl.ca_path},
      {.path = "ssl.redirect_http", .target = &c.ssl.redirect_http, .env = {"SSL_REDIRECT_HTTP"}},
      {.path = "ssl.http_port", .target = &c.ssl.http_port, .env = {"SSL_HTTP_PORT"}, .min = 1, .max = kMaxPort},
      {.path = "cors.origin", .target = &c.cors.origin, .env = {"CORS_ORIGINS"}},
      {.path = "cors.methods", .target = &c.cors.methods, .env = {"CORS_METHODS"}},
      {.path = "cors.allowed_headers", .target = &c.cors.allowed_headers, .env = {"CORS_HEADERS"}},
      {.path = "cors.credentials", .target = &c.cors.credentials, .env = {"CORS_CREDENTIALS"}},
      {.path = "unix_socket.enabled", .target = &c.unix_socket.enabled, .env = {"UNIX_SOCKET_ENABLED"}},
      {.path = "unix_socket.path", .target = &c.unix_socket.path, .env = {"UNIX_SOCKET_PATH"}},
      {.path = "unix_socket.permission_mode", .target = &c.unix_socket.permission_mode,
       .env = {"UNIX_SOCKET_PERMISSION_MODE"}},

      // §14 Metrics and logging
      {.path = "metrics.enabled", .target = &c.metrics.enabled, .env = {"METRICS_ENABLED"}},
      {.path = "metrics.driver", .target = &c.metrics.driver, .env = {"METRICS_DRIVER"},
       .choices = {"prometheus"}, .driver = true},
      {.path = "metrics.host", .target = &c.metrics.host, .env = {"METRICS_HOST"}},
      {.path = "metrics.port", .target = &c.metrics.port, .env = {"METRICS_PORT"}, .min = 1, .max = kMaxPort},
      {.path = "metrics.prometheus.prefix", .target = &c.metrics.prefix, .env = {"METRICS_PROMETHEUS_PREFIX"}},
      {.path = "logging.level", .target = &c.logging.level, .env = {"LOG_LEVEL"},
       .choices = {"trace", "debug", "info", "warn", "error", "critical", "off"}, .driver = true},
      {.path = "logging.format", .target = &c.logging.format, .env = {"LOG_OUTPUT_FORMAT"},
       .choices = {"human", "json"}, .driver = true},
      {.path = "logging.colors_enabled", .target = &c.logging.colors_enabled, .env = {"LOG_COLORS_ENABLED"}},
      {.path = "logging.include_target", .target = &c.logging.include_target, .env = {"LOG_INCLUDE_TARGET"}},

      // §15 Outbound buffers
      {.path = "websocket.max_messages", .target = &c.websocket.max_messages, .env = {"WEBSOCKET_MAX_MESSAGES"},
       .min = 1, .env_zero_is_null = true},
      {.path = "websocket.max_bytes", .target = &c.websocket.max_bytes, .env = {"WEBSOCKET_MAX_BYTES"},
       .min = 1, .env_zero_is_null = true},
      {.path = "websocket.disconnect_on_buffer_full", .target = &c.websocket.disconnect_on_buffer_full,
       .env = {"WEBSOCKET_DISCONNECT_ON_BUFFER_FULL"}},

      // §16 Control plane
      {.path = "control_plane.embedded", .target = &c.control_plane.embedded, .env = {"SOCKUDO_CONTROL_PLANE_EMBEDDED"}},
      {.path = "control_plane.grpc_host", .target = &c.control_plane.grpc_host, .env = {"CONTROL_PLANE_GRPC_HOST"}},
      {.path = "control_plane.grpc_port", .target = &c.control_plane.grpc_port, .env = {"CONTROL_PLANE_GRPC_PORT"},
       .min = 1, .max = kMaxPort},
      {.path = "control_plane.rest_host", .target = &c.control_plane.rest_host, .env = {"CONTROL_PLANE_REST_HOST"}},
      {.path = "control_plane.rest_port", .target = &c.control_plane.rest_port, .env = {"CONTROL_PLANE_REST_PORT"},
       .min = 1, .max = kMaxPort},
      {.path = "control_plane.auth_token", .target = &c.control_plane.auth_token, .env = {"CONTROL_PLANE_TOKEN"},
       .secret = true},
      {.path = "control_plane.auth_token_file", .target = &c.control_plane.auth_token_file,
       .env = {"CONTROL_PLANE_TOKEN_FILE"}},
  };
}

}  // namespace sockudo::config::internal
