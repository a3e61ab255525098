#include "dataplane/cache/occupancy_counter.h"

#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/logging.h"

namespace sockudo::dataplane::cache {
namespace {

using bus::redis::RedisReply;

// KEYS[1] = a count (or a node's hash with ARGV[2] = the field). ARGV[1] = delta. A count that
// reaches 0 or less is deleted, so that idle channels leave nothing behind.
constexpr char kCountScript[] = R"lua(
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
)lua";
constexpr char kShareScript[] = R"lua(
local n = redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[1])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[2]) end
return n
)lua";

std::string Field(const std::string& app_id, const std::string& channel) {
  return absl::StrCat(app_id, ":", channel);
}

}  // namespace

OccupancyCounter::OccupancyCounter(OccupancyCounterOptions options)
    : prefix_(std::move(options.prefix)),
      node_id_(std::move(options.node_id)),
      errors_(options.errors),
      pool_(std::move(options.pool), {kCountScript, kShareScript}) {}

std::string OccupancyCounter::CountKey(const std::string& field) const {
  const size_t colon = field.rfind(':');
  return absl::StrCat(prefix_, ":app:", field.substr(0, colon), ":channel:",
                      field.substr(colon + 1), ":sockets");
}

std::string OccupancyCounter::NodeKey(const std::string& node_id) const {
  return absl::StrCat(prefix_, "occupancy:", node_id);
}

void OccupancyCounter::Change(const std::string& app_id, const std::string& channel, int delta,
                              CountDone done) {
  const std::string field = Field(app_id, channel);
  const std::string d = std::to_string(delta);
  pool_.Script(1, NodeKey(node_id_), {d, field}, [this](absl::StatusOr<RedisReply> r) {
    if (!r.ok()) Failed(r.status());
  });
  pool_.Script(0, CountKey(field), {d}, [this, done = std::move(done)](absl::StatusOr<RedisReply> r) {
    if (!r.ok()) {
      Failed(r.status());
      return done(r.status());
    }
    failures_.Succeed();
    done(r->integer);
  });
}

void OccupancyCounter::Reclaim(const std::string& dead_node_id, Vacated vacated) {
  const std::string node_key = NodeKey(dead_node_id);
  pool_.Command(node_key, {"HGETALL", node_key},
                [this, node_key, vacated = std::move(vacated)](absl::StatusOr<RedisReply> r) {
                  if (!r.ok()) return Failed(r.status());
                  if (!r->is_array()) return;
                  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
                    const std::string& field = r->elements[i].str;
                    int64_t share = 0;
                    if (!absl::SimpleAtoi(r->elements[i + 1].str, &share) || share <= 0) continue;
                    const size_t colon = field.rfind(':');
                    if (colon == std::string::npos) continue;
                    pool_.Script(0, CountKey(field), {std::to_string(-share)},
                                 [this, field, colon, vacated](absl::StatusOr<RedisReply> c) {
                                   if (!c.ok()) return Failed(c.status());
                                   if (c->integer == 0) {
                                     vacated(field.substr(0, colon), field.substr(colon + 1));
                                   }
                                 });
                  }
                  pool_.Command(node_key, {"DEL", node_key}, [this](absl::StatusOr<RedisReply> d) {
                    if (!d.ok()) Failed(d.status());
                  });
                });
}

void OccupancyCounter::Shutdown(std::chrono::milliseconds limit) {
  pool_.Drain(limit);
  pool_.Shutdown();
}

void OccupancyCounter::Failed(const absl::Status& why) {
  if (errors_ != nullptr) errors_->fetch_add(1, std::memory_order_relaxed);
  if (const int64_t n = failures_.Fail(); base::FailureStreak::ShouldLog(n)) {
    base::Logger("cache")->warn(
        "occupancy counts failed ({} in a row; occupancy webhooks follow this node's own view): "
        "{}",
        n, std::string(why.message()));
  }
}

}  // namespace sockudo::dataplane::cache
