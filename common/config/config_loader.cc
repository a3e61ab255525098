#include "common/config/config_loader.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/apps/app_reader.h"
#include "common/apps/origin_matcher.h"
#include "common/base/json.h"
#include "common/base/strings.h"
#include "common/config/config_bindings.h"

namespace sockudo::config {
namespace {

using base::Json;
using internal::Binding;

// Sections whose keys belong to later features (cluster adapters, queue, webhooks, rate limiter,
// Redis): accepted without an unknown-key warning and read by the code that owns them.
constexpr std::string_view kDeferredSections[] = {"adapter.redis",
                                                  "adapter.cluster",
                                                  "adapter.nats",
                                                  "adapter.redis_settings",
                                                  "adapter.redis_cluster_settings",
                                                  "adapter.nats_settings",
                                                  "database.redis",
                                                  "database_pooling",
                                                  "cache.redis",
                                                  "queue",
                                                  "rate_limiter",
                                                  "webhooks",
                                                  "cleanup"};

// Sockudo keys this server does not support (spec/config.md §18).
constexpr std::string_view kIgnoredKeys[] = {"adapter.pulsar",
                                             "adapter.rabbitmq",
                                             "adapter.google_pubsub",
                                             "adapter.kafka",
                                             "adapter.iggy",
                                             "database.mysql",
                                             "database.postgres",
                                             "database.dynamodb",
                                             "database.surrealdb",
                                             "database.scylladb",
                                             "queue.sqs",
                                             "queue.sns",
                                             "metrics.tcp_exporter",
                                             "delta_compression",
                                             "tag_filtering",
                                             "connection_recovery",
                                             "history",
                                             "presence_history",
                                             "idempotency",
                                             "ephemeral",
                                             "echo_control",
                                             "event_name_filtering",
                                             "versioned_messages",
                                             "annotations",
                                             "ai_transport",
                                             "push",
                                             "push_rules",
                                             "ably_compat",
                                             "presence.update_rate_limit_per_member_per_second",
                                             "presence.ungraceful_timeout_seconds",
                                             "presence.v2_ungraceful_timeout_seconds",
                                             "websocket.max_message_size",
                                             "websocket.max_frame_size",
                                             "websocket.write_buffer_size",
                                             "websocket.max_backpressure",
                                             "websocket.auto_ping",
                                             "websocket.ping_interval",
                                             "websocket.idle_timeout",
                                             "websocket.compression"};

constexpr std::string_view kUnsupportedAdapters[] = {"kafka",         "rabbitmq",      "pulsar",
                                                     "google-pubsub", "google_pubsub", "iggy"};
constexpr std::string_view kUnsupportedAppStores[] = {"mysql",    "postgres",  "pgsql",
                                                      "dynamodb", "surrealdb", "scylladb"};

bool StartsWithPath(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '.');
}

std::string NormalizeDriver(std::string value) {
  value = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
  if (value == "redis_cluster") value = "redis-cluster";
  return value;
}

class Loader {
 public:
  explicit Loader(const LoadOptions& options)
      : options_(options), bindings_(internal::Bindings(config_)) {}

  absl::StatusOr<LoadedConfig> Run() {
    if (options_.config_text.has_value()) {
      ReadText(*options_.config_text, "config");
    } else if (auto file = LocateFile()) {
      ReadFile(*file);
    }
    ApplyEnv();
    ApplyApps();
    Finish();
    Validate();
    if (!errors_.empty()) {
      std::vector<std::string> lines;
      for (const std::string& e : errors_) lines.push_back(absl::StrCat("config error: ", e));
      return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
    }
    return LoadedConfig{std::move(config_), std::move(warnings_)};
  }

 private:
  std::optional<std::string> Env(const std::string& name) const { return options_.env(name); }

  // A variable that is set and non-empty.
  std::optional<std::string> EnvValue(std::string_view name) const {
    auto v = Env(std::string(name));
    if (!v.has_value() || v->empty()) return std::nullopt;
    return v;
  }

  void Error(std::string_view key, std::string_view reason) {
    errors_.push_back(std::string(key) + ": " + std::string(reason));
  }

  std::optional<std::string> LocateFile() {
    if (options_.config_path.has_value()) return options_.config_path;
    if (auto env = EnvValue("SOCKUDO_CONFIG_FILE")) return env;
    if (access("config/config.json", R_OK) == 0) return std::string("config/config.json");
    return std::nullopt;
  }

  void ReadFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
      Error("--config", absl::StrCat("cannot read file \"", path, "\""));
      return;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (ReadText(buffer.str(), path)) config_.source_file = path;
  }

  // False when the text is not a JSON object.
  bool ReadText(const std::string& raw, const std::string& source) {
    auto text = InterpolateEnv(raw, options_.env);
    if (!text.ok()) {
      Error(source, std::string(text.status().message()));
      return false;
    }
    std::optional<Json> parsed = base::ParseJson(*text);
    if (!parsed.has_value() || !parsed->is_object()) {
      Error(source, "not a valid JSON object (or nested deeper than 64 levels)");
      return false;
    }
    Json& root = *parsed;
    ApplyAliases(root);
    if (root.contains("app_manager") && root["app_manager"].is_object()) {
      Json& manager = root["app_manager"];
      if (manager.contains("array") && manager["array"].is_object() &&
          manager["array"].contains("apps")) {
        inline_apps_ = manager["array"]["apps"];
        manager["array"].erase("apps");
        if (manager["array"].empty()) manager.erase("array");
      }
    }
    Walk(root, "");
    return true;
  }

  // spec/config.md §17, the aliases that this build reads.
  void ApplyAliases(Json& root) {
    if (root.contains("cluster_health") && root["cluster_health"].is_object()) {
      Json& adapter = root["adapter"];
      if (!adapter.is_object()) adapter = Json::object();
      Json& target = adapter["cluster_health"];
      if (!target.is_object()) target = Json::object();
      for (const auto& [k, v] : root["cluster_health"].items()) {
        if (!target.contains(k)) {
          target[k] = v;
        } else if (target[k] != v) {
          warnings_.push_back(absl::StrCat("adapter.cluster_health.", k, " and cluster_health.", k,
                                           " differ; using adapter.cluster_health"));
        }
      }
      root.erase("cluster_health");
    }
    if (root.contains("app_manager") && root["app_manager"].is_object() &&
        root["app_manager"].contains("apps")) {
      Json& manager = root["app_manager"];
      if (!manager.contains("array") || !manager["array"].contains("apps")) {
        manager["array"]["apps"] = manager["apps"];
      } else {
        warnings_.push_back(
            "app_manager.apps and app_manager.array.apps both set; using app_manager.array.apps");
      }
      manager.erase("apps");
    }
  }

  const Binding* Find(std::string_view path) const {
    for (const Binding& b : bindings_) {
      if (b.path == path) return &b;
    }
    return nullptr;
  }

  bool HasBindingUnder(std::string_view path) const {
    return std::any_of(bindings_.begin(), bindings_.end(),
                       [&](const Binding& b) { return StartsWithPath(b.path, path); });
  }

  void Walk(const Json& node, const std::string& prefix) {
    for (const auto& [key, value] : node.items()) {
      const std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
      if (const Binding* b = Find(path)) {
        ApplyJson(*b, value);
        continue;
      }
      if (std::any_of(std::begin(kIgnoredKeys), std::end(kIgnoredKeys),
                      [&](std::string_view k) { return StartsWithPath(path, k); })) {
        warnings_.push_back(absl::StrCat(path, ": ignored: not supported by this server"));
        continue;
      }
      if (std::any_of(std::begin(kDeferredSections), std::end(kDeferredSections),
                      [&](std::string_view k) { return StartsWithPath(path, k); })) {
        continue;
      }
      if (value.is_object() && HasBindingUnder(path)) {
        Walk(value, path);
        continue;
      }
      warnings_.push_back(absl::StrCat(path, ": unknown key"));
    }
  }

  void ApplyJson(const Binding& b, const Json& v) {
    if (v.is_null()) return;  // null: keep the default
    explicit_.insert(std::string(b.path));
    const std::string key(b.path);
    std::visit(
        [&](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>>) {
            if (!v.is_boolean()) return Error(key, "expected a boolean");
            *target = v.get<bool>();
          } else if constexpr (std::is_same_v<T, int64_t> ||
                               std::is_same_v<T, std::optional<int64_t>>) {
            if (!v.is_number_integer() &&
                !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
              return Error(key, absl::StrCat("expected an integer, got ", base::Dump(v)));
            }
            SetInt(b, target, v.get<int64_t>(), key);
          } else if constexpr (std::is_same_v<T, double>) {
            if (!v.is_number())
              return Error(key, absl::StrCat("expected a number, got ", base::Dump(v)));
            SetDouble(b, target, v.get<double>(), key);
          } else if constexpr (std::is_same_v<T, std::string> ||
                               std::is_same_v<T, std::optional<std::string>>) {
            if (!v.is_string())
              return Error(key, absl::StrCat("expected a string, got ", base::Dump(v)));
            SetString(b, target, v.get<std::string>(), key);
          } else {
            if (!v.is_array()) return Error(key, "expected an array of strings");
            std::vector<std::string> list;
            for (const Json& item : v) {
              if (!item.is_string()) return Error(key, "expected an array of strings");
              list.push_back(item.get<std::string>());
            }
            *target = std::move(list);
          }
        },
        b.target);
  }

  template <typename T>
  void SetInt(const Binding& b, T* target, int64_t value, const std::string& key) {
    if (value < b.min || value > b.max) {
      if (b.max == std::numeric_limits<int64_t>::max()) {
        return Error(key, absl::StrCat("must be >= ", b.min, ", got ", value));
      }
      return Error(key, absl::StrCat("must be between ", b.min, " and ", b.max, ", got ", value));
    }
    *target = value;
  }

  void SetDouble(const Binding& b, double* target, double value, const std::string& key) {
    if (value < b.dmin || value > b.dmax) {
      return Error(key, absl::StrCat("out of range, got ", value));
    }
    *target = value;
  }

  template <typename T>
  void SetString(const Binding& b, T* target, std::string value, const std::string& key) {
    if (b.driver) value = NormalizeDriver(value);
    if (!b.choices.empty() &&
        std::find(b.choices.begin(), b.choices.end(), value) == b.choices.end()) {
      if (b.path == "adapter.driver" &&
          std::find(std::begin(kUnsupportedAdapters), std::end(kUnsupportedAdapters), value) !=
              std::end(kUnsupportedAdapters)) {
        return Error(key, absl::StrCat("\"", value, "\" driver not supported by this server"));
      }
      if (b.path == "app_manager.driver" &&
          std::find(std::begin(kUnsupportedAppStores), std::end(kUnsupportedAppStores), value) !=
              std::end(kUnsupportedAppStores)) {
        return Error(key, absl::StrCat("\"", value, "\" is not supported by this server"));
      }
      return Error(
          key,
          absl::StrCat("unknown value \"", value, "\" (expected ",
                       absl::StrJoin(b.choices, ", ",
                                     [](std::string* out, std::string_view c) { out->append(c); }),
                       ")"));
    }
    *target = std::move(value);
  }

  static std::optional<bool> ParseBool(std::string_view raw) {
    const std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(base::Av(raw)));
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    return std::nullopt;
  }

  static std::optional<int64_t> ParseInt(std::string_view raw) {
    const absl::string_view v = absl::StripAsciiWhitespace(base::Av(raw));
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || v.empty()) return std::nullopt;
    return out;
  }

  void ApplyEnvValue(const Binding& b, std::string_view name, const std::string& raw) {
    const std::string var(name);
    explicit_.insert(std::string(b.path));
    std::visit(
        [&](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>>) {
            auto v = ParseBool(raw);
            if (!v) return Error(var, absl::StrCat("expected boolean, got \"", raw, "\""));
            *target = *v;
          } else if constexpr (std::is_same_v<T, int64_t> ||
                               std::is_same_v<T, std::optional<int64_t>>) {
            if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
              if (b.env_zero_is_null && (raw == "0" || absl::AsciiStrToLower(raw) == "none")) {
                *target = std::nullopt;
                return;
              }
            }
            auto v = ParseInt(raw);
            if (!v) return Error(var, absl::StrCat("expected integer, got \"", raw, "\""));
            SetInt(b, target, *v, var);
          } else if constexpr (std::is_same_v<T, double>) {
            double v = 0;
            auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
            if (ec != std::errc() || ptr != raw.data() + raw.size()) {
              return Error(var, absl::StrCat("expected number, got \"", raw, "\""));
            }
            SetDouble(b, target, v, var);
          } else if constexpr (std::is_same_v<T, std::string> ||
                               std::is_same_v<T, std::optional<std::string>>) {
            SetString(b, target, raw, var);
          } else {
            std::vector<std::string> list;
            for (absl::string_view item : absl::StrSplit(raw, ',')) {
              item = absl::StripAsciiWhitespace(item);
              if (!item.empty()) list.emplace_back(item);
            }
            *target = std::move(list);
          }
        },
        b.target);
  }

  void ApplyEnv() {
    for (const Binding& b : bindings_) {
      for (std::string_view name : b.env) {
        if (auto value = EnvValue(name)) {
          ApplyEnvValue(b, name, *value);
          break;
        }
      }
    }
    if (auto debug = EnvValue("DEBUG")) {
      auto v = ParseBool(*debug);
      if (!v) {
        Error("DEBUG", absl::StrCat("expected boolean, got \"", *debug, "\""));
      } else if (*v) {
        config_.debug = true;
      }
    }
  }

  std::optional<bool> EnvBool(std::string_view name) {
    auto v = EnvValue(name);
    if (!v) return std::nullopt;
    auto parsed = ParseBool(*v);
    if (!parsed) Error(name, absl::StrCat("expected boolean, got \"", *v, "\""));
    return parsed;
  }

  // spec/config.md §7.1.
  void ApplyApps() {
    std::vector<apps::App> list;
    if (!inline_apps_.is_null()) {
      if (!inline_apps_.is_array()) {
        Error("app_manager.array.apps", "expected an array of apps");
      } else {
        for (size_t i = 0; i < inline_apps_.size(); ++i) {
          auto app = apps::ReadApp(inline_apps_[i]);
          if (!app.ok()) {
            Error(absl::StrCat("app_manager.array.apps[", i, "]"),
                  std::string(app.status().message()));
          } else {
            list.push_back(*std::move(app));
          }
        }
      }
    }
    const bool skip_inline = EnvBool("SOCKUDO_SKIP_INLINE_APPS").value_or(false) ||
                             !EnvBool("APP_MANAGER_REGISTER_INLINE_APPS").value_or(true);
    if (skip_inline) list.clear();

    bool any_default_var = false;
    for (std::string_view name :
         {"SOCKUDO_DEFAULT_APP_ID", "SOCKUDO_DEFAULT_APP_KEY", "SOCKUDO_DEFAULT_APP_SECRET",
          "SOCKUDO_DEFAULT_APP_ENABLED", "SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS",
          "SOCKUDO_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS"}) {
      any_default_var = any_default_var || EnvValue(name).has_value();
    }
    if (config_.app_manager.driver != "memory") {
      if (any_default_var) {
        warnings_.push_back("SOCKUDO_DEFAULT_APP_*: ignored with app_manager.driver " +
                            config_.app_manager.driver);
      }
      config_.app_manager.apps = std::move(list);
      return;
    }

    const auto id = EnvValue("SOCKUDO_DEFAULT_APP_ID");
    const auto key = EnvValue("SOCKUDO_DEFAULT_APP_KEY");
    const auto secret = EnvValue("SOCKUDO_DEFAULT_APP_SECRET");
    const auto enabled = EnvBool("SOCKUDO_DEFAULT_APP_ENABLED");
    const int set_count = id.has_value() + key.has_value() + secret.has_value();
    if (set_count > 0 && set_count < 3) {
      std::vector<std::string> missing;
      if (!id) missing.push_back("SOCKUDO_DEFAULT_APP_ID");
      if (!key) missing.push_back("SOCKUDO_DEFAULT_APP_KEY");
      if (!secret) missing.push_back("SOCKUDO_DEFAULT_APP_SECRET");
      for (const std::string& m : missing) {
        Error(m, "required when any of SOCKUDO_DEFAULT_APP_ID/KEY/SECRET is set");
      }
    }
    if (enabled.has_value() && !*enabled) {
      config_.app_manager.apps.clear();
      return;
    }
    apps::App env_app = apps::DefaultApp();
    ApplyDefaultAppEnv(env_app);
    if (set_count == 3) {
      env_app.id = *id;
      env_app.key = *key;
      env_app.secret = *secret;
      list = {env_app};
    } else if (list.empty()) {
      list = {env_app};
    }
    config_.app_manager.apps = std::move(list);
  }

  void ApplyDefaultAppEnv(apps::App& app) {
    auto int_var = [&](std::string_view name) -> std::optional<int64_t> {
      auto v = EnvValue(name);
      if (!v) return std::nullopt;
      auto parsed = ParseInt(*v);
      if (!parsed) Error(name, absl::StrCat("expected integer, got \"", *v, "\""));
      return parsed;
    };
    auto num_var = [&](std::string_view name) -> std::optional<double> {
      auto v = EnvValue(name);
      if (!v) return std::nullopt;
      double out = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
      if (ec != std::errc() || ptr != v->data() + v->size() || out <= 0) {
        Error(name, absl::StrCat("expected a positive number, got \"", *v, "\""));
        return std::nullopt;
      }
      return out;
    };
    auto positive = [](std::optional<int64_t> v) {
      return v.has_value() && *v > 0 ? v : std::optional<int64_t>();
    };
    if (auto v = int_var("SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS")) app.max_connections = *v;
    if (auto v = int_var("SOCKUDO_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SECOND"))
      app.max_client_events_per_second = *v;
    app.max_backend_events_per_second =
        positive(int_var("SOCKUDO_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SECOND"));
    app.max_read_requests_per_second =
        positive(int_var("SOCKUDO_DEFAULT_APP_MAX_READ_REQUESTS_PER_SECOND"));
    app.max_presence_members_per_channel =
        positive(int_var("SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL"));
    app.max_presence_member_size_in_kb =
        num_var("SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBER_SIZE_IN_KB");
    app.max_channel_name_length = positive(int_var("SOCKUDO_DEFAULT_APP_MAX_CHANNEL_NAME_LENGTH"));
    app.max_event_channels_at_once =
        positive(int_var("SOCKUDO_DEFAULT_APP_MAX_EVENT_CHANNELS_AT_ONCE"));
    app.max_event_name_length = positive(int_var("SOCKUDO_DEFAULT_APP_MAX_EVENT_NAME_LENGTH"));
    app.max_event_payload_in_kb = num_var("SOCKUDO_DEFAULT_APP_MAX_EVENT_PAYLOAD_IN_KB");
    app.max_event_batch_size = positive(int_var("SOCKUDO_DEFAULT_APP_MAX_EVENT_BATCH_SIZE"));
    if (auto v = EnvBool("SOCKUDO_DEFAULT_APP_ENABLE_CLIENT_MESSAGES")) {
      app.enable_client_messages = *v;
    } else if (auto g = EnvBool("SOCKUDO_ENABLE_CLIENT_MESSAGES")) {
      app.enable_client_messages = *g;
    }
    if (auto v = EnvBool("SOCKUDO_DEFAULT_APP_ENABLE_USER_AUTHENTICATION"))
      app.enable_user_authentication = *v;
    if (auto v = EnvBool("SOCKUDO_DEFAULT_APP_ENABLE_WATCHLIST_EVENTS"))
      app.enable_watchlist_events = *v;
    if (auto v = EnvValue("SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS")) {
      std::vector<std::string> origins;
      for (absl::string_view item : absl::StrSplit(*v, ',')) {
        item = absl::StripAsciiWhitespace(item);
        if (item.empty()) continue;
        if (auto st = apps::ValidateOriginPattern(base::Sv(item)); !st.ok()) {
          Error("SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS", std::string(st.message()));
        }
        origins.emplace_back(item);
      }
      app.allowed_origins = std::move(origins);
    }
  }

  void Finish() {
    if (config_.process_id.empty()) {
      if (auto host = EnvValue("HOSTNAME")) {
        config_.process_id = *host;
      } else {
        std::random_device rd;
        std::mt19937_64 gen(rd());
        char buf[37];
        const uint64_t a = gen(), b = gen();
        std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%012llx",
                      static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xFFFF),
                      static_cast<unsigned>(a & 0xFFF),
                      static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3FFF)),
                      static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
        config_.process_id = buf;
      }
    }
    bool cors_wildcard = config_.cors.origin.empty();
    for (const std::string& o : config_.cors.origin)
      cors_wildcard = cors_wildcard || o.find('*') != std::string::npos || o == "any";
    if (cors_wildcard && config_.cors.credentials) {
      config_.cors.credentials = false;
      if (explicit_.count("cors.credentials")) {
        warnings_.push_back("cors.credentials: disabled because cors.origin contains a wildcard");
      }
    }
  }

  void Validate() {
    Config& c = config_;
    if (c.server_role != "default") {
      Error("server_role", absl::StrCat("\"", c.server_role, "\" is not supported by this server"));
    }
    if (c.path_prefix.empty() || c.path_prefix[0] != '/') Error("path_prefix", "must start with /");
    const ClusterHealthConfig& h = c.adapter.cluster_health;
    if (h.heartbeat_interval_ms <= 0)
      Error("adapter.cluster_health.heartbeat_interval_ms", "must be > 0");
    if (h.node_timeout_ms <= 0) Error("adapter.cluster_health.node_timeout_ms", "must be > 0");
    if (h.cleanup_interval_ms <= 0)
      Error("adapter.cluster_health.cleanup_interval_ms", "must be > 0");
    if (h.heartbeat_interval_ms > 0 && h.node_timeout_ms > 0 &&
        h.heartbeat_interval_ms > h.node_timeout_ms / 3) {
      Error("adapter.cluster_health.heartbeat_interval_ms",
            absl::StrCat(h.heartbeat_interval_ms,
                         " must be <= node_timeout_ms/3 = ", h.node_timeout_ms / 3));
    }
    if (h.cleanup_interval_ms > h.node_timeout_ms) {
      Error("adapter.cluster_health.cleanup_interval_ms", "must be <= node_timeout_ms");
    }
    if (c.adapter.fast_presence_transitions && !h.enabled) {
      Error("adapter.fast_presence_transitions", "requires adapter.cluster_health.enabled");
    }
    if (c.adapter.aggregate_counts)
      warnings_.push_back("adapter.aggregate_counts: not supported, ignored");
    if (c.adapter.driver != "local") {
      Error("adapter.driver", absl::StrCat("\"", c.adapter.driver,
                                           "\" is not available in this build yet (only local)"));
    }
    if (c.cache.driver == "redis" || c.cache.driver == "redis-cluster") {
      Error("cache.driver",
            absl::StrCat("\"", c.cache.driver, "\" is not available in this build yet"));
    }
    if (c.ssl.enabled) {
      if (c.ssl.cert_path.empty() || access(c.ssl.cert_path.c_str(), R_OK) != 0) {
        Error("ssl.cert_path", absl::StrCat("file not readable: \"", c.ssl.cert_path, "\""));
      }
      if (c.ssl.key_path.empty() || access(c.ssl.key_path.c_str(), R_OK) != 0) {
        Error("ssl.key_path", absl::StrCat("file not readable: \"", c.ssl.key_path, "\""));
      }
    }
    if (c.ssl.redirect_http) {
      warnings_.push_back(
          "ssl.redirect_http: not implemented in this build; no redirect listener is started");
    }
    if (c.unix_socket.enabled) {
      const std::string& p = c.unix_socket.path;
      if (p.empty() || p[0] != '/') {
        Error("unix_socket.path", absl::StrCat("must be an absolute path, got \"", p, "\""));
      } else if (absl::StrContains(p, "/../") || absl::EndsWith(p, "/..")) {
        Error("unix_socket.path", "must not contain .. segments");
      }
      if (c.ssl.enabled)
        warnings_.push_back("unix_socket.enabled with ssl.enabled: unusual combination");
    }
    {
      const std::string& mode = c.unix_socket.permission_mode;
      const bool octal =
          !mode.empty() && mode.size() <= 4 &&
          std::all_of(mode.begin(), mode.end(), [](char ch) { return ch >= '0' && ch <= '7'; });
      if (!octal || std::stoi(mode, nullptr, 8) > 0777) {
        Error("unix_socket.permission_mode",
              absl::StrCat("expected an octal mode <= 777, got \"", mode, "\""));
      } else if (std::stoi(mode, nullptr, 8) & 02) {
        warnings_.push_back("unix_socket.permission_mode: the socket is world-writable");
      }
    }
    for (const std::string& pattern : c.cors.origin) {
      if (pattern.empty() || std::count(pattern.begin(), pattern.end(), '*') > 1) {
        Error("cors.origin", absl::StrCat("invalid pattern \"", pattern, "\""));
      }
    }
    const bool hosts_overlap =
        c.host == c.metrics.host || c.host == "0.0.0.0" || c.metrics.host == "0.0.0.0";
    if (c.metrics.enabled && hosts_overlap && c.port == c.metrics.port && !c.unix_socket.enabled) {
      Error("metrics.port", absl::StrCat("conflicts with port ", c.port));
    }
    if (c.control_plane.auth_token.has_value() && c.control_plane.auth_token_file.has_value()) {
      Error("control_plane.auth_token", "set either auth_token or auth_token_file, not both");
    }
    if (c.websocket.max_messages.has_value() && *c.websocket.max_messages < 1) {
      Error("websocket.max_messages", "must be > 0");
    }
  }

  const LoadOptions& options_;
  Config config_;
  std::vector<Binding> bindings_;
  Json inline_apps_;
  std::set<std::string> explicit_;  // keys set by the file or the environment
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace

absl::StatusOr<std::string> InterpolateEnv(const std::string& text, const EnvReader& env) {
  std::string out;
  out.reserve(text.size());
  std::vector<std::string> unresolved;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close != std::string::npos) {
        std::string inner = text.substr(i + 2, close - i - 2);
        std::optional<std::string> fallback;
        if (size_t sep = inner.find(":-"); sep != std::string::npos) {
          fallback = inner.substr(sep + 2);
          inner.resize(sep);
        }
        auto value = env(inner);
        if (value.has_value() && !value->empty()) {
          out += *value;
        } else if (fallback.has_value()) {
          out += *fallback;
        } else {
          unresolved.push_back(inner);
        }
        i = close + 1;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  if (!unresolved.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unresolved variables: ", absl::StrJoin(unresolved, ", ")));
  }
  return out;
}

absl::StatusOr<LoadedConfig> LoadConfig(const LoadOptions& options) {
  return Loader(options).Run();
}

}  // namespace sockudo::config
