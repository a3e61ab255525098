#include "common/config/config_loader.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
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

// Sections whose keys belong to later features (cache, queue, webhooks, rate limiter, cleanup):
// accepted without an unknown-key warning and read by the code that owns them.
constexpr std::string_view kDeferredSections[] = {"cache.redis", "queue", "rate_limiter",
                                                  "webhooks", "cleanup"};

// Keys whose values a binding cannot express (URLs, seed lists, host/port lists): Walk() keeps
// their JSON for ResolveRedis().
constexpr std::string_view kCustomKeys[] = {"adapter.redis.redis_pub_options.url",
                                            "adapter.redis.redis_sub_options.url",
                                            "adapter.cluster.nodes",
                                            "database.redis.cluster.nodes",
                                            "database.redis.cluster_nodes",
                                            "database.redis.sentinels"};

// Sockudo environment variables accepted and ignored with a warning.
constexpr std::string_view kIgnoredEnv[] = {
    "NATS_DISCOVERY_MAX_WAIT_MS",    "NATS_DISCOVERY_IDLE_WAIT_MS", "NATS_CLIENT_CAPACITY",
    "DATABASE_CONNECTION_POOL_SIZE", "DATABASE_MYSQL_POOL_MIN",     "DATABASE_MYSQL_POOL_MAX",
    "DATABASE_POSTGRES_POOL_MIN",    "DATABASE_POSTGRES_POOL_MAX"};

// Sockudo keys this server does not support.
constexpr std::string_view kIgnoredKeys[] = {"adapter.nats.discovery_max_wait_ms",
                                             "adapter.nats.discovery_idle_wait_ms",
                                             "adapter.nats.client_capacity",
                                             "adapter.pulsar",
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

constexpr std::string_view kAdapterDrivers[] = {"local", "redis", "redis-cluster", "nats"};
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

template <typename List>
bool Contains(const List& list, std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

std::vector<std::string> SplitList(std::string_view raw) {
  std::vector<std::string> list;
  for (absl::string_view item : absl::StrSplit(base::Av(raw), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) list.emplace_back(item);
  }
  return list;
}

// ---- Redis URLs, seeds and host:port lists ----

std::optional<int64_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  const int64_t port = std::stoll(std::string(text));
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

bool ValidHost(std::string_view host) {
  return !host.empty() && std::none_of(host.begin(), host.end(), [](char ch) {
    return absl::ascii_isspace(static_cast<unsigned char>(ch)) || ch == '/' || ch == '?' ||
           ch == '#' || ch == '@' || ch == ',' || ch == '[' || ch == ']' || ch == '%';
  });
}

// "host", "host:port", "[v6]", "[v6]:port"; with `bare_v6` also an unbracketed IPv6 address
// (two or more colons), which then has no port.
std::optional<HostPort> ParseHostPort(std::string_view text, int64_t default_port, bool bare_v6) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    const std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos ||
        !ValidHost(absl::StrReplaceAll(base::Av(host), {{":", ""}}))) {
      return std::nullopt;
    }
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return HostPort{std::string(host), default_port};
    if (rest.front() != ':') return std::nullopt;
    auto port = ParsePort(rest.substr(1));
    if (!port) return std::nullopt;
    return HostPort{std::string(host), *port};
  }
  const size_t colons = std::count(text.begin(), text.end(), ':');
  if (colons == 0) {
    if (!ValidHost(text)) return std::nullopt;
    return HostPort{std::string(text), default_port};
  }
  if (colons == 1) {
    const size_t colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    auto port = ParsePort(text.substr(colon + 1));
    if (!ValidHost(host) || !port) return std::nullopt;
    return HostPort{std::string(host), *port};
  }
  if (!bare_v6 || !ValidHost(absl::StrReplaceAll(base::Av(text), {{":", ""}}))) {
    return std::nullopt;
  }
  return HostPort{std::string(text), default_port};
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// scheme://[user[:password]@]authority[/path][?query]. The authority ends at the first '/' or
// '?'; the user info at the last '@' before it (so an unencoded '@' in a password works).
struct UrlParts {
  std::string scheme;                   // lower-case
  std::optional<std::string> user;      // percent-decoded; empty → nullopt
  std::optional<std::string> password;  // percent-decoded; empty → nullopt
  bool has_userinfo = false;
  std::string authority;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
};

std::optional<UrlParts> SplitUrl(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  UrlParts parts;
  parts.scheme = absl::AsciiStrToLower(base::Av(url.substr(0, sep)));
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return std::nullopt;
  const size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = rest.substr(authority_end);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    parts.has_userinfo = true;
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    if (!user) return std::nullopt;
    if (!user->empty()) parts.user = *std::move(user);
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1));
      if (!password) return std::nullopt;
      if (!password->empty()) parts.password = *std::move(password);
    }
  }
  parts.authority = std::string(authority);
  const size_t question = tail.find('?');
  parts.path = std::string(tail.substr(0, question));
  if (question != std::string_view::npos) {
    for (absl::string_view item : absl::StrSplit(base::Av(tail.substr(question + 1)), '&')) {
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      auto key = PercentDecode(base::Sv(item.substr(0, eq)));
      auto value = PercentDecode(eq == absl::string_view::npos ? std::string_view()
                                                               : base::Sv(item.substr(eq + 1)));
      if (!key || !value) return std::nullopt;
      parts.query.emplace_back(*std::move(key), *std::move(value));
    }
  }
  return parts;
}

// "" or "/" → 0, "/N" → N.
std::optional<int64_t> ParseDbPath(std::string_view path) {
  if (path.empty() || path == "/") return 0;
  if (path.front() != '/') return std::nullopt;
  const std::string_view digits = path.substr(1);
  if (digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(std::string(digits));
}

// The endpoint of database.redis when neither REDIS_URL nor a `url` option applies: Sentinel when
// sentinels are configured, else host/port/db/credentials; master_tls either way.
RedisTarget BaseTarget(const RedisDatabaseConfig& r) {
  RedisTarget t;
  t.host = r.host;
  t.port = r.port;
  t.db = r.db;
  t.username = r.username;
  t.password = r.password;
  t.tls = r.master_tls.enabled;
  t.tls_options = r.master_tls;
  t.sentinels = r.sentinels;
  t.sentinel_name = r.name;
  t.sentinel_username = r.sentinel_username;
  t.sentinel_password = r.sentinel_password;
  t.sentinel_tls = r.sentinel_tls;
  return t;
}

// A REDIS_URL / `url` option value: redis://, rediss:// or redis+sentinel://. It replaces host,
// port, db, username, password and sentinels; master_tls and sentinel_tls (and the sentinel
// credentials when the URL has none) still come from `r`.
std::optional<RedisTarget> ParseRedisUrl(std::string_view url, const RedisDatabaseConfig& r) {
  auto parts = SplitUrl(url);
  if (!parts) return std::nullopt;
  RedisTarget t;
  t.tls_options = r.master_tls;
  t.sentinel_tls = r.sentinel_tls;
  if (parts->scheme == "redis" || parts->scheme == "rediss") {
    auto hp = ParseHostPort(parts->authority, 6379, false);
    auto db = ParseDbPath(parts->path);
    if (!hp || !db) return std::nullopt;
    t.host = hp->host;
    t.port = hp->port;
    t.db = *db;
    t.username = parts->user;
    t.password = parts->password;
    t.tls = parts->scheme == "rediss" || r.master_tls.enabled;
  } else if (parts->scheme == "redis+sentinel") {
    for (absl::string_view item : absl::StrSplit(parts->authority, ',')) {
      auto hp = ParseHostPort(base::Sv(item), 26379, false);
      if (!hp) return std::nullopt;
      t.sentinels.push_back(*std::move(hp));
    }
    // /<name>/<db>, either part optional.
    std::vector<std::string> segments;
    if (!parts->path.empty()) {
      std::vector<std::string> split = absl::StrSplit(parts->path.substr(1), '/');
      segments = std::move(split);
      if (segments.size() > 2) return std::nullopt;
    }
    t.sentinel_name = r.name;
    if (!segments.empty() && !segments[0].empty()) {
      auto name = PercentDecode(segments[0]);
      if (!name) return std::nullopt;
      t.sentinel_name = *std::move(name);
    }
    t.db = 0;
    if (segments.size() == 2) {
      auto db = ParseDbPath("/" + segments[1]);
      if (!db) return std::nullopt;
      t.db = *db;
    }
    if (parts->has_userinfo) {
      t.sentinel_username = parts->user;
      t.sentinel_password = parts->password;
    } else {
      t.sentinel_username = r.sentinel_username;
      t.sentinel_password = r.sentinel_password;
    }
    for (const auto& [key, value] : parts->query) {
      if (key == "password" && !value.empty()) t.password = value;
      if (key == "username" && !value.empty()) t.username = value;
    }
    t.tls = r.master_tls.enabled;
  } else {
    return std::nullopt;
  }
  t.tls_options.enabled = t.tls;
  return t;
}

// One cluster seed before the shared credentials and TLS are applied.
struct ParsedSeed {
  RedisSeed seed;
  bool rediss = false;
  bool embedded_credentials = false;
};

// host, host:port, [v6]:port, bare v6, redis://[user:pass@]host:port, rediss://…
std::optional<ParsedSeed> ParseSeed(std::string_view text, int64_t default_port) {
  text = base::Sv(absl::StripAsciiWhitespace(base::Av(text)));
  ParsedSeed out;
  if (text.find("://") != std::string_view::npos) {
    auto parts = SplitUrl(text);
    if (!parts || (parts->scheme != "redis" && parts->scheme != "rediss")) return std::nullopt;
    auto hp = ParseHostPort(parts->authority, default_port, false);
    if (!hp || !ParseDbPath(parts->path)) return std::nullopt;
    out.seed.host = hp->host;
    out.seed.port = hp->port;
    out.seed.username = parts->user;
    out.seed.password = parts->password;
    out.embedded_credentials = parts->user.has_value() || parts->password.has_value();
    out.rediss = parts->scheme == "rediss";
    return out;
  }
  auto hp = ParseHostPort(text, default_port, true);
  if (!hp) return std::nullopt;
  out.seed.host = hp->host;
  out.seed.port = hp->port;
  return out;
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
    ResolveRedis();
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
    for (const char* section : {"queue", "rate_limiter"}) {
      if (root.contains(section)) deferred_[section] = root[section];
    }
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

  // The legacy key names this build reads (docs/configuration.md, "Old key names").
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
    // Redis / NATS aliases: the canonical key wins, a differing alias is named in a warning.
    Alias(root, "adapter.redis_settings.dsn", "adapter.redis.redis_pub_options.url");
    Alias(root, "adapter.redis_cluster_settings.dsns", "adapter.cluster.nodes", CommaList);
    Alias(root, "adapter.nats_settings.url", "adapter.nats.servers", CommaList);
    Alias(root, "adapter.nats_settings.subject_prefix", "adapter.nats.prefix");
    Alias(root, "database.redis.cluster.useTLS", "database.redis.cluster.use_tls");
    for (std::string_view block :
         {"database.redis.master_tls", "database.redis.sentinel_tls", "adapter.nats.tls"}) {
      Alias(root, absl::StrCat(base::Av(block), ".acceptInvalidCerts"),
            absl::StrCat(base::Av(block), ".accept_invalid_certs"));
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

  // "a,b" → ["a", "b"]; other values unchanged (a wrong type is reported by the canonical key).
  static Json CommaList(const Json& value) {
    if (!value.is_string()) return value;
    Json list = Json::array();
    for (std::string& item : SplitList(value.get<std::string>())) list.push_back(std::move(item));
    return list;
  }
  static Json Identity(const Json& value) { return value; }

  // The member at a dotted path, or null when a part is missing or not an object.
  static Json* Lookup(Json& root, std::string_view path) {
    Json* node = &root;
    for (absl::string_view part : absl::StrSplit(base::Av(path), '.')) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(std::string(part));
      if (it == node->end()) return nullptr;
      node = &*it;
    }
    return node;
  }

  // Moves the value at `alias` to `canonical`. Empty legacy sections left behind are removed;
  // anything else in them is reported as unknown keys.
  void Alias(Json& root, std::string_view alias, std::string_view canonical,
             Json (*convert)(const Json&) = &Identity) {
    const size_t dot = alias.rfind('.');
    Json* parent = Lookup(root, alias.substr(0, dot));
    const std::string leaf(alias.substr(dot + 1));
    if (parent == nullptr || !parent->is_object() || !parent->contains(leaf)) return;
    Json value = convert((*parent)[leaf]);
    parent->erase(leaf);
    if (parent->empty()) {
      const std::string_view parent_path = alias.substr(0, dot);
      const size_t pdot = parent_path.rfind('.');
      Json* grand =
          pdot == std::string_view::npos ? &root : Lookup(root, parent_path.substr(0, pdot));
      if (grand != nullptr) grand->erase(std::string(parent_path.substr(pdot + 1)));
    }
    if (value.is_null()) return;
    if (Json* existing = Lookup(root, canonical); existing != nullptr && !existing->is_null()) {
      if (*existing != value) {
        warnings_.push_back(absl::StrCat(base::Av(canonical), " and ", base::Av(alias),
                                         " differ; using ", base::Av(canonical)));
      }
      return;
    }
    Json* node = &root;
    for (absl::string_view part : absl::StrSplit(base::Av(canonical), '.')) {
      if (node->is_null()) *node = Json::object();
      if (!node->is_object()) return;  // reported as a type error of the canonical section
      node = &(*node)[std::string(part)];
    }
    *node = std::move(value);
  }

  const Binding* Find(std::string_view path) const {
    for (const Binding& b : bindings_) {
      if (b.path == path) return &b;
    }
    return nullptr;
  }

  bool HasBindingUnder(std::string_view path) const {
    return std::any_of(bindings_.begin(), bindings_.end(),
                       [&](const Binding& b) { return StartsWithPath(b.path, path); }) ||
           std::any_of(std::begin(kCustomKeys), std::end(kCustomKeys),
                       [&](std::string_view k) { return StartsWithPath(k, path); });
  }

  void Walk(const Json& node, const std::string& prefix) {
    for (const auto& [key, value] : node.items()) {
      const std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
      if (const Binding* b = Find(path)) {
        ApplyJson(*b, value);
        continue;
      }
      if (Contains(kCustomKeys, path)) {
        if (!value.is_null()) custom_[path] = value;
        continue;
      }
      if (value.is_null() && HasBindingUnder(path)) continue;  // a section left at its defaults
      if (absl::StartsWith(path, "adapter.redis.redis_pub_options.") ||
          absl::StartsWith(path, "adapter.redis.redis_sub_options.")) {
        warnings_.push_back(absl::StrCat(path, ": ignored (only url is recognised)"));
        continue;
      }
      if (std::any_of(std::begin(kIgnoredKeys), std::end(kIgnoredKeys),
                      [&](std::string_view k) { return StartsWithPath(path, k); })) {
        warnings_.push_back(absl::StrCat(path, ": ignored: not supported by this server"));
        continue;
      }
      if (value.is_object() && HasBindingUnder(path)) {
        Walk(value, path);
        continue;
      }
      if (std::any_of(std::begin(kDeferredSections), std::end(kDeferredSections),
                      [&](std::string_view k) { return StartsWithPath(path, k); })) {
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
    if (b.positive && value < 1) return Error(key, absl::StrCat("must be > 0, got ", value));
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
        auto value = Env(std::string(name));
        if (!value.has_value()) continue;
        if (value->empty()) {
          if (!b.env_empty_is_null) continue;  // `VAR=` is unset
          explicit_.insert(std::string(b.path));
          std::visit(
              [](auto* target) {
                using T = std::remove_pointer_t<decltype(target)>;
                if constexpr (std::is_same_v<T, std::optional<std::string>> ||
                              std::is_same_v<T, std::optional<int64_t>> ||
                              std::is_same_v<T, std::optional<bool>>) {
                  target->reset();
                }
              },
              b.target);
          break;
        }
        ApplyEnvValue(b, name, *value);
        break;
      }
    }
    for (std::string_view name : kIgnoredEnv) {
      if (EnvValue(name)) {
        warnings_.push_back(
            absl::StrCat(base::Av(name), ": ignored: not supported by this server"));
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

  // The apps of the `memory` driver: the inline apps, replaced by the app the SOCKUDO_DEFAULT_APP_*
  // variables define, else the built-in default app (docs/configuration.md, "The default app").
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

  // The `port` member of a {host, port} object: `fallback` when absent or null, nullopt when not
  // an integer in 1-65535.
  static std::optional<int64_t> JsonPort(const Json& item, int64_t fallback) {
    auto it = item.find("port");
    if (it == item.end() || it->is_null()) return fallback;
    if (!it->is_number_integer()) return std::nullopt;
    return ParsePort(std::to_string(it->get<int64_t>()));
  }

  void CannotParse(std::string_view key, std::string_view value) {
    Error(key, absl::StrCat("cannot parse \"", internal::MaskUrlCredentials(value), "\""));
  }

  // A list of seeds from the file: strings or {host, port} objects.
  std::vector<ParsedSeed> SeedsFromJson(std::string_view key) {
    std::vector<ParsedSeed> seeds;
    auto it = custom_.find(std::string(key));
    if (it == custom_.end()) return seeds;
    const Json& list = it->second;
    if (!list.is_array()) {
      Error(key, "expected an array of seed URLs or {host, port} objects");
      return seeds;
    }
    for (const Json& item : list) {
      std::optional<ParsedSeed> seed;
      std::string text;
      if (item.is_string()) {
        text = item.get<std::string>();
        seed = ParseSeed(text, 6379);
      } else if (item.is_object() && item.contains("host") && item["host"].is_string()) {
        text = item["host"].get<std::string>();
        auto port = JsonPort(item, 6379);
        if (!port) {
          Error(key,
                absl::StrCat("port must be between 1 and 65535, got ", base::Dump(item["port"])));
          continue;
        }
        seed = ParseSeed(text, *port);
      } else {
        Error(key, absl::StrCat("expected a seed URL or a {host, port} object, got ",
                                internal::MaskUrlCredentials(base::Dump(item))));
        continue;
      }
      if (!seed) {
        CannotParse(key, text);
      } else {
        seeds.push_back(*std::move(seed));
      }
    }
    return seeds;
  }

  std::vector<ParsedSeed> SeedsFromList(std::string_view key, std::string_view raw) {
    std::vector<ParsedSeed> seeds;
    for (const std::string& item : SplitList(raw)) {
      if (auto seed = ParseSeed(item, 6379)) {
        seeds.push_back(*std::move(seed));
      } else {
        CannotParse(key, item);
      }
    }
    return seeds;
  }

  // Credentials embedded in a seed win, else cluster.username/password, else
  // database.redis.username/password; TLS when any seed is rediss://, cluster.use_tls or
  // master_tls.enabled.
  std::vector<RedisSeed> FinishSeeds(const std::vector<ParsedSeed>& parsed, bool* tls_out) {
    const RedisDatabaseConfig& r = config_.redis;
    const auto username = r.cluster.username.has_value() ? r.cluster.username : r.username;
    const auto password = r.cluster.password.has_value() ? r.cluster.password : r.password;
    bool tls = r.cluster.use_tls || r.master_tls.enabled;
    for (const ParsedSeed& p : parsed) tls = tls || p.rediss;
    std::vector<RedisSeed> seeds;
    for (const ParsedSeed& p : parsed) {
      RedisSeed seed = p.seed;
      if (!p.embedded_credentials) {
        seed.username = username;
        seed.password = password;
      }
      seed.tls = tls;
      seeds.push_back(std::move(seed));
    }
    if (tls_out != nullptr) *tls_out = tls;
    return seeds;
  }

  // In order: the scheme in database.redis.host, sentinels, cluster seeds, then the adapter's
  // endpoints with REDIS_URL applied last.
  void ResolveRedis() {
    RedisDatabaseConfig& r = config_.redis;
    if (const size_t sep = r.host.find("://"); sep != std::string::npos) {
      const std::string scheme = absl::AsciiStrToLower(r.host.substr(0, sep));
      std::optional<HostPort> hp;
      if (scheme == "redis" || scheme == "rediss") {
        hp = ParseHostPort(std::string_view(r.host).substr(sep + 3), r.port, false);
      }
      if (!hp) {
        CannotParse("database.redis.host", r.host);
      } else {
        r.host = hp->host;
        r.port = hp->port;
        if (scheme == "rediss") r.master_tls.enabled = true;
      }
    }

    // Sentinels: DATABASE_REDIS_SENTINELS, else the file's list.
    if (auto env = EnvValue("DATABASE_REDIS_SENTINELS")) {
      r.sentinels.clear();
      for (const std::string& item : SplitList(*env)) {
        if (auto hp = ParseHostPort(item, 26379, false)) {
          r.sentinels.push_back(*std::move(hp));
        } else {
          CannotParse("DATABASE_REDIS_SENTINELS", item);
        }
      }
    } else if (auto it = custom_.find("database.redis.sentinels"); it != custom_.end()) {
      const std::string key = "database.redis.sentinels";
      if (!it->second.is_array()) {
        Error(key, "expected an array of {host, port} objects");
      } else {
        for (const Json& item : it->second) {
          std::optional<HostPort> hp;
          if (item.is_string()) {
            hp = ParseHostPort(item.get<std::string>(), 26379, false);
          } else if (item.is_object() && item.contains("host") && item["host"].is_string()) {
            const std::string host = item["host"].get<std::string>();
            auto port = JsonPort(item, 26379);
            if (port && ValidHost(absl::StrReplaceAll(host, {{":", ""}}))) {
              hp = HostPort{host, *port};
            }
          }
          if (hp) {
            r.sentinels.push_back(*std::move(hp));
          } else {
            CannotParse(key, item.is_string() ? item.get<std::string>() : base::Dump(item));
          }
        }
      }
    }

    // Cluster seeds. Either env list sets every seed list; the DATABASE_ one wins.
    std::vector<ParsedSeed> adapter_seeds, db_seeds;
    std::optional<std::string> env_name;
    for (std::string_view name : {"DATABASE_REDIS_CLUSTER_NODES", "REDIS_CLUSTER_NODES"}) {
      if (EnvValue(name)) {
        env_name = std::string(name);
        break;
      }
    }
    if (env_name.has_value()) {
      adapter_seeds = SeedsFromList(*env_name, *EnvValue(*env_name));
      db_seeds = adapter_seeds;
    } else {
      adapter_seeds = SeedsFromJson("adapter.cluster.nodes");
      db_seeds = SeedsFromJson("database.redis.cluster.nodes");
      std::vector<ParsedSeed> legacy = SeedsFromJson("database.redis.cluster_nodes");
      if (db_seeds.empty()) db_seeds = std::move(legacy);
      if (adapter_seeds.empty()) adapter_seeds = db_seeds;
    }
    r.cluster.nodes = FinishSeeds(db_seeds, nullptr);
    RedisClusterAdapterConfig& cluster = config_.adapter.cluster;
    cluster.nodes = FinishSeeds(adapter_seeds, &cluster.tls);
    cluster.tls_options = r.master_tls;
    cluster.tls_options.enabled = cluster.tls;

    // The adapter's endpoints: REDIS_URL > url options > Sentinel / database.redis. The subscriber
    // defaults to the publisher's endpoint.
    auto url_option = [&](const std::string& key) -> std::optional<RedisTarget> {
      auto it = custom_.find(key);
      if (it == custom_.end()) return std::nullopt;
      if (!it->second.is_string()) {
        Error(key, absl::StrCat("expected a string, got ", base::Dump(it->second)));
        return std::nullopt;
      }
      const std::string url = it->second.get<std::string>();
      if (url.empty()) return std::nullopt;  // "" = not set
      auto target = ParseRedisUrl(url, r);
      if (!target) CannotParse(key, url);
      return target;
    };
    std::optional<RedisTarget> pub = url_option("adapter.redis.redis_pub_options.url");
    std::optional<RedisTarget> sub = url_option("adapter.redis.redis_sub_options.url");
    config_.app_manager.redis = BaseTarget(r);
    if (auto url = EnvValue("REDIS_URL")) {
      if (auto target = ParseRedisUrl(*url, r)) {
        pub = sub = *target;
        config_.app_manager.redis = *std::move(target);
      } else {
        CannotParse("REDIS_URL", *url);
      }
    }
    RedisAdapterConfig& adapter = config_.adapter.redis;
    adapter.pub = pub.has_value() ? *pub : BaseTarget(r);
    adapter.sub = sub.has_value() ? *sub : adapter.pub;

    // NATS: an empty credential is no credential; TLS from the CA, a client certificate or a
    // tls:// server.
    NatsAdapterConfig& nats = config_.adapter.nats;
    for (std::optional<std::string>* v :
         {&nats.username, &nats.password, &nats.token, &nats.credentials_file}) {
      if (v->has_value() && (*v)->empty()) v->reset();
    }
    nats.tls.enabled =
        nats.tls.ca_path.has_value() || nats.tls.client_cert_path.has_value() ||
        std::any_of(nats.servers.begin(), nats.servers.end(),
                    [](const std::string& u) { return absl::StartsWithIgnoreCase(u, "tls://"); });
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
    ValidateAdapter();
    ValidateRedis();
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
    if (c.control_plane.tls.enabled) {
      const ControlPlaneTlsConfig& t = c.control_plane.tls;
      if (t.cert_path.empty() || access(t.cert_path.c_str(), R_OK) != 0) {
        Error("control_plane.tls.cert_path", absl::StrCat("file not readable: \"", t.cert_path, "\""));
      }
      if (t.key_path.empty() || access(t.key_path.c_str(), R_OK) != 0) {
        Error("control_plane.tls.key_path", absl::StrCat("file not readable: \"", t.key_path, "\""));
      }
    }
    if (c.control_plane.auth_token.has_value() && c.control_plane.auth_token_file.has_value()) {
      Error("control_plane.auth_token", "set either auth_token or auth_token_file, not both");
    }
    if (c.websocket.max_messages.has_value() && *c.websocket.max_messages < 1) {
      Error("websocket.max_messages", "must be > 0");
    }
  }

  bool FileReadable(const std::optional<std::string>& path) {
    return path.has_value() && !path->empty() && access(path->c_str(), R_OK) == 0;
  }

  // Cert and key both or neither, every file readable, accept_invalid_certs warns.
  void CheckTls(std::string_view block, const TlsConfig& tls) {
    const std::string cert = absl::StrCat(base::Av(block), ".client_cert_path");
    const std::string key = absl::StrCat(base::Av(block), ".client_key_path");
    if (tls.client_cert_path.has_value() && !tls.client_key_path.has_value()) {
      Error(cert, absl::StrCat("requires ", key));
    }
    if (tls.client_key_path.has_value() && !tls.client_cert_path.has_value()) {
      Error(key, absl::StrCat("requires ", cert));
    }
    const std::pair<std::string, const std::optional<std::string>*> files[] = {
        {absl::StrCat(base::Av(block), ".ca_path"), &tls.ca_path},
        {cert, &tls.client_cert_path},
        {key, &tls.client_key_path}};
    for (const auto& [name, path] : files) {
      if (path->has_value() && !FileReadable(*path)) {
        Error(name, absl::StrCat("file not readable: \"", **path, "\""));
      }
    }
    if (tls.accept_invalid_certs) {
      warnings_.push_back(absl::StrCat(base::Av(block),
                                       ".accept_invalid_certs: certificate verification is "
                                       "disabled (testing only)"));
    }
  }

  // A driver of a deferred section (queue, rate limiter): env, else file, else the default.
  std::string DeferredDriver(std::string_view section, std::string_view env,
                             std::string_view fallback) {
    if (auto v = EnvValue(env)) return NormalizeDriver(*v);
    auto it = deferred_.find(std::string(section));
    if (it != deferred_.end() && it->second.is_object() && it->second.contains("driver") &&
        it->second["driver"].is_string()) {
      return NormalizeDriver(it->second["driver"].get<std::string>());
    }
    return std::string(fallback);
  }

  void ValidateAdapter() {
    AdapterConfig& a = config_.adapter;
    if (!Contains(kAdapterDrivers, a.driver)) {
      if (Contains(kUnsupportedAdapters, a.driver)) {
        Error("adapter.driver", absl::StrCat("\"", a.driver, "\" is not supported by this server"));
      } else {
        Error("adapter.driver", absl::StrCat("unknown driver \"", a.driver,
                                             "\" (expected local, redis, redis-cluster, nats)"));
      }
    }
    if (a.UsesRedisCluster() && a.cluster.nodes.empty()) {
      Error("adapter.cluster.nodes", "no Redis Cluster seed nodes configured");
    }
    if (a.driver == "redis" && a.redis.cluster_mode) {
      warnings_.push_back(
          "adapter.redis.cluster_mode: the redis driver runs as redis-cluster (cluster seeds)");
    }
    if (!a.cluster.use_connection_manager) {
      warnings_.push_back(
          "adapter.cluster.use_connection_manager: false is not supported; persistent "
          "connections are used");
    }

    // NATS.
    const NatsAdapterConfig& n = a.nats;
    if (n.servers.empty()) Error("adapter.nats.servers", "must not be empty");
    for (const std::string& server : n.servers) {
      const size_t sep = server.find("://");
      const std::string scheme =
          sep == std::string::npos ? "" : absl::AsciiStrToLower(server.substr(0, sep));
      if (sep != std::string::npos && scheme != "nats" && scheme != "tls") {
        Error("adapter.nats.servers", absl::StrCat("expected nats:// or tls:// URLs, got \"",
                                                   internal::MaskUrlCredentials(server), "\""));
      } else if (server.empty() || (sep != std::string::npos && sep + 3 == server.size())) {
        Error("adapter.nats.servers", absl::StrCat("invalid server \"", server, "\""));
      }
    }
    if (n.prefix.empty()) {
      Error("adapter.nats.prefix", "must not be empty");
    } else if (std::any_of(n.prefix.begin(), n.prefix.end(), [](char ch) {
                 return absl::ascii_isspace(static_cast<unsigned char>(ch)) || ch == '*' ||
                        ch == '>';
               })) {
      Error("adapter.nats.prefix",
            absl::StrCat("must not contain whitespace, '*' or '>', got \"", n.prefix, "\""));
    } else if (n.prefix.back() == '.') {
      Error("adapter.nats.prefix", absl::StrCat("must not end with '.', got \"", n.prefix, "\""));
    }
    if (n.username.has_value() && !n.password.has_value()) {
      Error("adapter.nats.username", "requires adapter.nats.password");
    }
    if (n.password.has_value() && !n.username.has_value()) {
      Error("adapter.nats.password", "requires adapter.nats.username");
    }
    std::vector<std::string> methods;
    if (n.username.has_value() || n.password.has_value()) {
      methods.push_back("adapter.nats.username/password");
    }
    if (n.token.has_value()) methods.push_back("adapter.nats.token");
    if (n.credentials_file.has_value()) methods.push_back("adapter.nats.credentials_file");
    if (methods.size() > 1) {
      Error("adapter.nats", absl::StrCat("only one authentication method may be configured, got ",
                                         absl::StrJoin(methods, ", ")));
    }
    if (n.credentials_file.has_value() && !FileReadable(n.credentials_file)) {
      Error("adapter.nats.credentials_file",
            absl::StrCat("file not readable: \"", *n.credentials_file, "\""));
    }
    CheckTls("adapter.nats.tls", n.tls);

    // Warnings: what stays per node under a horizontal adapter.
    if (a.driver == "local" || !Contains(kAdapterDrivers, a.driver)) return;
    const std::string with = absl::StrCat(" with adapter.driver \"", a.driver, "\": ");
    const ClusterHealthConfig& h = a.cluster_health;
    if (h.enabled && h.heartbeat_interval_ms > 0 && h.heartbeat_interval_ms < 1000) {
      warnings_.push_back(
          absl::StrCat("adapter.cluster_health.heartbeat_interval_ms: ", h.heartbeat_interval_ms,
                       " is a high heartbeat frequency (< 1000 ms)"));
    }
    if (config_.cache.driver == "memory" || config_.cache.driver == "none") {
      warnings_.push_back(absl::StrCat("cache.driver: \"", config_.cache.driver, "\"", with,
                                       "cache channels and the shared app cache level are per "
                                       "node"));
    }
    bool limiter_enabled = false;
    if (auto v = EnvValue("RATE_LIMITER_ENABLED")) {
      limiter_enabled = ParseBool(*v).value_or(false);
    } else if (auto it = deferred_.find("rate_limiter");
               it != deferred_.end() && it->second.is_object() && it->second.contains("enabled") &&
               it->second["enabled"].is_boolean()) {
      limiter_enabled = it->second["enabled"].get<bool>();
    }
    if (limiter_enabled &&
        DeferredDriver("rate_limiter", "RATE_LIMITER_DRIVER", "memory") == "memory") {
      warnings_.push_back(absl::StrCat("rate_limiter.driver: \"memory\"", with,
                                       "limits are enforced per node (effective limit x nodes)"));
    }
    if (DeferredDriver("queue", "QUEUE_DRIVER", "memory") == "memory") {
      warnings_.push_back(
          absl::StrCat("queue.driver: \"memory\"", with, "webhook jobs are lost if the node dies"));
    }
    if (!h.enabled) {
      if (a.UsesRedisCluster() && !a.cluster.use_sharded_pubsub) {
        warnings_.push_back(
            "adapter.cluster_health.enabled: false with redis-cluster classic pub/sub: cross-node "
            "queries will only see local data");
      } else if (a.driver == "nats" && !n.nodes_number.has_value()) {
        warnings_.push_back(
            "adapter.cluster_health.enabled: false with nats and no adapter.nats.nodes_number: "
            "cross-node queries will only see local data");
      }
    }
  }

  void ValidateRedis() {
    const RedisDatabaseConfig& r = config_.redis;
    if (r.db > 15) {
      warnings_.push_back(absl::StrCat("database.redis.db: ", r.db,
                                       " is above 15 (a default Redis server has 16 databases)"));
    }
    CheckTls("database.redis.master_tls", r.master_tls);
    CheckTls("database.redis.sentinel_tls", r.sentinel_tls);
    const DatabasePoolingConfig& pool = config_.database_pooling;
    if (pool.min > pool.max) Error("database_pooling.min", "must be <= max");
    if (r.connection_pool_size.has_value() && pool.min > *r.connection_pool_size) {
      Error("database_pooling.min", "must be <= database.redis.connection_pool_size");
    }
  }

  const LoadOptions& options_;
  Config config_;
  std::vector<Binding> bindings_;
  Json inline_apps_;
  std::map<std::string, Json> custom_;    // kCustomKeys found in the file
  std::map<std::string, Json> deferred_;  // the file's queue and rate_limiter sections
  std::set<std::string> explicit_;        // keys set by the file or the environment
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
