#include "common/bus/redis/blocking_redis.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "absl/strings/str_cat.h"

namespace sockudo::bus::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

void SetBlockingTimeout(redisContext* context, std::chrono::milliseconds timeout) {
  redisSetTimeout(context, ToTimeval(timeout));
}

absl::StatusOr<RedisReply> CommandBlocking(redisContext* context,
                                           const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) return absl::UnavailableError(context->errstr);
  RedisReply out = RedisReply::FromHiredis(r);
  freeReplyObject(r);
  return out;
}

absl::StatusOr<redisContext*> DialBlocking(const config::RedisTarget& target,
                                           std::chrono::milliseconds timeout,
                                           std::string_view who) {
  const std::string where = absl::StrCat(target.host, ":", target.port);
  const timeval tv = ToTimeval(timeout);
  redisContext* c = redisConnectWithTimeout(target.host.c_str(), static_cast<int>(target.port), tv);
  if (c == nullptr || c->err != 0) {
    std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError(
        absl::StrCat(std::string(who), ": cannot reach Redis at ", where, ": ", why));
  }
  redisSetTimeout(c, tv);
  auto check = [&](const std::vector<std::string>& argv) -> absl::Status {
    auto r = CommandBlocking(c, argv);
    if (!r.ok()) {
      return absl::UnavailableError(
          absl::StrCat(std::string(who), ": Redis at ", where, ": ", r.status().message()));
    }
    if (r->type == RedisReply::Type::kError) {
      return absl::UnavailableError(
          absl::StrCat(std::string(who), ": Redis at ", where, ": ", r->str));
    }
    return absl::OkStatus();
  };
  absl::Status st = absl::OkStatus();
  if (target.password.has_value()) {
    std::vector<std::string> auth = {"AUTH"};
    if (target.username.has_value()) auth.push_back(*target.username);
    auth.push_back(*target.password);
    st = check(auth);
  }
  if (st.ok() && target.db != 0) st = check({"SELECT", std::to_string(target.db)});
  if (!st.ok()) {
    redisFree(c);
    return st;
  }
  return c;
}

}  // namespace sockudo::bus::redis
