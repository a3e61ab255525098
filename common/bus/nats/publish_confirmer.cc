#include "common/bus/nats/publish_confirmer.h"

#include "absl/strings/str_cat.h"

namespace sockudo::bus::nats {

PublishConfirmer::PublishConfirmer(Flush flush, Finish finish)
    : flush_(std::move(flush)), finish_(std::move(finish)) {}

PublishConfirmer::~PublishConfirmer() { Stop(); }

void PublishConfirmer::Start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void PublishConfirmer::Add(Completion done) {
  {
    std::lock_guard lock(mu_);
    if (running_ && !stopping_) {
      pending_.push_back(std::move(done));
      if (pending_.size() == 1) cv_.notify_one();
      return;
    }
  }
  // Not running (Stop under way): nothing will flush, nats.c's drain sends it.
  finish_(std::move(done), absl::OkStatus());
}

void PublishConfirmer::Broke() {
  std::vector<Completion> batch;
  {
    std::lock_guard lock(mu_);
    ++epoch_;
    batch.swap(pending_);
  }
  FailAll(std::move(batch),
          absl::UnavailableError("nats: the connection broke before the server confirmed it"));
}

void PublishConfirmer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();  // only Start and Stop (the owner's thread) touch thread_
  std::lock_guard lock(mu_);
  running_ = false;
}

uint64_t PublishConfirmer::flushes() const {
  std::lock_guard lock(mu_);
  return flushes_;
}

void PublishConfirmer::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    std::vector<Completion> batch;
    batch.swap(pending_);
    const uint64_t epoch = epoch_;
    lock.unlock();
    absl::Status status = flush_();
    lock.lock();
    ++flushes_;
    if (status.ok() && epoch != epoch_) {
      status = absl::UnavailableError("nats: the connection broke before the server confirmed it");
    } else if (!status.ok()) {
      status = absl::UnavailableError(
          absl::StrCat("nats: the server did not confirm the publish: ", status.message()));
    }
    lock.unlock();
    if (status.ok()) {
      for (Completion& done : batch) finish_(std::move(done), absl::OkStatus());
    } else {
      FailAll(std::move(batch), status);
    }
    lock.lock();
  }
}

void PublishConfirmer::FailAll(std::vector<Completion> batch, const absl::Status& why) {
  for (Completion& done : batch) finish_(std::move(done), why);
}

}  // namespace sockudo::bus::nats
