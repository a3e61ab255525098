#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/json.h"
#include "common/base/strings.h"
#include "common/config/config_bindings.h"
#include "common/config/config_loader.h"

namespace sockudo::config {
namespace {

constexpr std::string_view kMask = "***";

std::string Encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (absl::ascii_isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 0xF]);
    }
  }
  return out;
}

std::string HostAndPort(const std::string& host, int64_t port) {
  return absl::StrCat(host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host,
                      ":", port);
}

std::string UserInfo(const std::optional<std::string>& user,
                     const std::optional<std::string>& password, bool mask) {
  if (!user.has_value() && !password.has_value()) return "";
  std::string out = user.has_value() ? Encode(*user) : "";
  if (password.has_value()) {
    absl::StrAppend(&out, ":", mask ? std::string(kMask) : Encode(*password));
  }
  return out + "@";
}

}  // namespace

namespace internal {

std::string MaskUrlCredentials(std::string_view url) {
  std::string out(url);
  const size_t sep = out.find("://");
  const size_t start = sep == std::string::npos ? 0 : sep + 3;
  const size_t end =
      sep == std::string::npos ? out.size() : std::min(out.find_first_of("/?", start), out.size());
  if (const size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
      at != std::string::npos && at >= start && at < end) {
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, kMask);
    } else {
      out.replace(start, at - start, kMask);
    }
  }
  // ?password=… (redis+sentinel).
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos == 0 || (out[pos - 1] != '?' && out[pos - 1] != '&')) continue;
    const size_t value = pos + 9;
    const size_t value_end = std::min(out.find('&', value), out.size());
    out.replace(value, value_end - value, kMask);
  }
  return out;
}

}  // namespace internal

std::string RedisTargetUrl(const RedisTarget& t, bool mask_secrets) {
  if (!t.sentinels.empty()) {
    std::vector<std::string> hosts;
    for (const HostPort& s : t.sentinels) hosts.push_back(HostAndPort(s.host, s.port));
    std::string url = absl::StrCat(
        "redis+sentinel://", UserInfo(t.sentinel_username, t.sentinel_password, mask_secrets),
        absl::StrJoin(hosts, ","), "/", Encode(t.sentinel_name), "/", t.db);
    std::vector<std::string> params;
    if (t.password.has_value()) {
      params.push_back(
          absl::StrCat("password=", mask_secrets ? std::string(kMask) : Encode(*t.password)));
    }
    if (t.username.has_value()) params.push_back(absl::StrCat("username=", Encode(*t.username)));
    if (!params.empty()) absl::StrAppend(&url, "?", absl::StrJoin(params, "&"));
    return url;
  }
  return absl::StrCat(t.tls ? "rediss://" : "redis://",
                      UserInfo(t.username, t.password, mask_secrets), HostAndPort(t.host, t.port),
                      "/", t.db);
}

std::string RedisSeedUrl(const RedisSeed& seed, bool mask_secrets) {
  return absl::StrCat(seed.tls ? "rediss://" : "redis://",
                      UserInfo(seed.username, seed.password, mask_secrets),
                      HostAndPort(seed.host, seed.port));
}

std::string PrintConfig(const Config& config) {
  Config copy = config;
  base::Json out = base::Json::object();
  for (const internal::Binding& b : internal::Bindings(copy)) {
    base::Json value = std::visit(
        [](auto* target) -> base::Json {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, std::optional<bool>> ||
                        std::is_same_v<T, std::optional<int64_t>> ||
                        std::is_same_v<T, std::optional<std::string>>) {
            return target->has_value() ? base::Json(**target) : base::Json(nullptr);
          } else {
            return base::Json(*target);
          }
        },
        b.target);
    if (b.secret && !value.is_null()) value = "********";
    if (b.urls && value.is_array()) {
      for (base::Json& item : value) item = internal::MaskUrlCredentials(item.get<std::string>());
    }
    base::Json* node = &out;
    for (absl::string_view part : absl::StrSplit(base::Av(b.path), '.'))
      node = &(*node)[std::string(part)];
    *node = std::move(value);
  }
  // What the loader resolved: the adapter's endpoints as URLs, the seeds, the sentinels;
  // credentials masked.
  base::Json& redis_adapter = out["adapter"]["redis"];
  redis_adapter["redis_pub_options"]["url"] = RedisTargetUrl(config.adapter.redis.pub);
  redis_adapter["redis_sub_options"]["url"] = RedisTargetUrl(config.adapter.redis.sub);
  auto seeds = [](const std::vector<RedisSeed>& list) {
    base::Json out = base::Json::array();
    for (const RedisSeed& seed : list) out.push_back(RedisSeedUrl(seed));
    return out;
  };
  out["adapter"]["cluster"]["nodes"] = seeds(config.adapter.cluster.nodes);
  out["database"]["redis"]["cluster"]["nodes"] = seeds(config.redis.cluster.nodes);
  base::Json sentinels = base::Json::array();
  for (const HostPort& s : config.redis.sentinels) {
    sentinels.push_back({{"host", s.host}, {"port", s.port}});
  }
  out["database"]["redis"]["sentinels"] = std::move(sentinels);

  base::Json apps = base::Json::array();
  for (const apps::App& app : config.app_manager.apps) {
    base::Json j = app.ToJson(false);
    j["secret"] = "********";
    apps.push_back(std::move(j));
  }
  out["app_manager"]["array"]["apps"] = std::move(apps);
  return out.dump(2, ' ', false, base::Json::error_handler_t::replace);
}

}  // namespace sockudo::config
