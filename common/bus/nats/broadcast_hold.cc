#include "common/bus/nats/broadcast_hold.h"

#include "absl/strings/str_cat.h"

namespace sockudo::bus::nats {

bool BroadcastHold::Keep(std::string& payload, Completion& done, const Fail& fail) {
  if (!closed()) return false;
  std::unique_lock lock(mu_);
  if (!closed()) return false;  // opened meanwhile: everything kept has gone out
  if (kept_.size() >= limit_) {
    lock.unlock();
    fail(std::move(done),
         absl::ResourceExhaustedError(absl::StrCat(
             "nats: ", limit_, " broadcasts already wait for the peers to resubscribe")));
    return true;
  }
  kept_.emplace_back(std::move(payload), std::move(done));
  return true;
}

size_t BroadcastHold::Open(const Send& send) {
  std::lock_guard lock(mu_);
  const size_t n = kept_.size();
  for (auto& [payload, done] : kept_) send(payload, std::move(done));
  kept_.clear();
  closed_.store(false, std::memory_order_release);
  return n;
}

void BroadcastHold::FailAll(const absl::Status& why, const Fail& fail) {
  std::deque<std::pair<std::string, Completion>> kept;
  {
    std::lock_guard lock(mu_);
    closed_.store(false, std::memory_order_release);
    kept.swap(kept_);
  }
  for (auto& [payload, done] : kept) fail(std::move(done), why);
}

size_t BroadcastHold::size() const {
  std::lock_guard lock(mu_);
  return kept_.size();
}

}  // namespace sockudo::bus::nats
