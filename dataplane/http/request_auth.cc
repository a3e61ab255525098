#include "dataplane/http/request_auth.h"

#include <charconv>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"
#include "common/crypto/pusher_signature.h"

namespace sockudo::dataplane::http {

namespace {
constexpr int64_t kTimestampWindow = 600;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::variant<Authenticated, HttpResponse> AuthenticateRequest(std::shared_ptr<const apps::App> app,
                                                              const HttpRequest& request,
                                                              const std::string& app_id,
                                                              int64_t now) {
  if (!app) return JsonError(404, absl::StrCat("The app ", app_id, " could not be found."));

  const std::string* auth_key = request.Param("auth_key");
  const std::string* timestamp = request.Param("auth_timestamp");
  const std::string* signature = request.Param("auth_signature");
  if (!auth_key || !timestamp || !signature) {
    return JsonError(401, "Missing auth_key, auth_timestamp or auth_signature");
  }
  if (*auth_key != app->key) return JsonError(401, "Invalid auth_key");

  int64_t ts = 0;
  auto [ptr, ec] = std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), ts);
  if (ec != std::errc() || ptr != timestamp->data() + timestamp->size() ||
      std::llabs(now - ts) > kTimestampWindow) {
    return JsonError(401, "Timestamp expired or too far in the future");
  }

  const std::string* body_md5 = request.Param("body_md5");
  if (!request.body.empty() || body_md5 != nullptr) {
    if (body_md5 == nullptr || !crypto::ConstantTimeEquals(absl::AsciiStrToLower(*body_md5),
                                                           crypto::Md5Hex(request.body))) {
      return JsonError(401, "body_md5 mismatch");
    }
  }

  const std::string expected =
      crypto::SignHttpRequest(app->secret, request.method, request.path, request.query);
  if (!crypto::ConstantTimeEquals(*signature, expected)) return JsonError(401, "Invalid signature");

  if (!app->enabled) return JsonError(403, "The app is disabled.");

  Authenticated out{std::move(app), nullptr};
  if (request.method == "POST") {
    auto parsed = base::ParseJson(request.body.empty() ? std::string_view("{}")
                                                       : std::string_view(request.body));
    if (!parsed.has_value() || !parsed->is_object()) {
      return JsonError(400, "The received data is incorrect");
    }
    out.body = std::move(*parsed);
  }
  return out;
}

}  // namespace sockudo::dataplane::http
