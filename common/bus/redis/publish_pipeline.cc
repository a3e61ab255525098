#include "common/bus/redis/publish_pipeline.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/bus/redis/guarded.h"

namespace sockudo::bus::redis {
namespace asio = boost::asio;
using std::chrono::milliseconds;

PublishPipeline::PublishPipeline(asio::io_context& io, std::string name,
                                 const RedisBusOptions& options,
                                 std::shared_ptr<spdlog::logger> log, Sender sender)
    : io_(io),
      name_(std::move(name)),
      options_(options),
      log_(std::move(log)),
      sender_(std::move(sender)),
      timer_(io) {}

bool PublishPipeline::Reserve() {
  if (depth_.fetch_add(1) >= options_.queue_limit) {
    depth_.fetch_sub(1);
    dropped_.fetch_add(1);
    return false;
  }
  return true;
}

absl::Status PublishPipeline::FullError() const {
  return absl::ResourceExhaustedError(absl::StrCat(name_, " broadcast pipeline full (",
                                                   options_.queue_limit, " messages): dropped"));
}

void PublishPipeline::Add(std::string channel, std::string payload, Completion done,
                          bool broadcast) {
  auto job = std::make_shared<Job>();
  job->channel = std::move(channel);
  job->payload = std::move(payload);
  job->done = std::move(done);
  job->broadcast = broadcast;
  if (broadcast) {
    queue_.push_back(std::move(job));
    Pump();
    return;
  }
  others_.insert(job);
  Send(job);
}

void PublishPipeline::Send(const JobPtr& job) {
  const uint64_t id = ++job->send_id;
  sender_(job, [this, job, id](Outcome outcome) {
    if (stopping_ || !job->Current(id)) return;
    OnOutcome(job, std::move(outcome));
  });
}

void PublishPipeline::OnOutcome(const JobPtr& job, Outcome outcome) {
  switch (outcome.kind) {
    case Outcome::Kind::kDone:
      Finish(job, std::move(outcome.status));
      return;
    case Outcome::Kind::kResend:
      Resend(job, outcome.delay);
      return;
    case Outcome::Kind::kRetry:
      break;
  }
  const absl::Status& why = outcome.status;
  if (++job->attempts > options_.publish_retries) {
    Finish(job, absl::UnavailableError(absl::StrCat(name_, " publish to ", job->channel,
                                                    " failed after ", job->attempts,
                                                    " attempts: ", why.message())));
    return;
  }
  const milliseconds delay = RetryDelay(job->attempts);
  if (job->broadcast && !waiting_) {
    log_->warn("{} broadcasts: {} waiting, retry in {} ms: {}", name_, queue_.size(), delay.count(),
               std::string(why.message()));
  }
  Resend(job, delay);
}

void PublishPipeline::Resend(const JobPtr& job, milliseconds delay) {
  ++job->send_id;  // whatever the older send still reports is ignored
  if (job->broadcast) {
    MarkUnsent(*job);
    SchedulePump(delay);
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([this, timer, job](boost::system::error_code ec) {
    if (ec || stopping_ || job->finished) return;
    Send(job);
  });
}

void PublishPipeline::MarkUnsent(Job& job) {
  if (!job.sent) return;
  job.sent = false;
  --sent_;
}

void PublishPipeline::Finish(const JobPtr& job, absl::Status status) {
  if (job->finished) return;
  job->finished = true;
  if (job->broadcast) {
    MarkUnsent(*job);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) queue_.erase(it);
    depth_.fetch_sub(1);
  } else {
    others_.erase(job);
  }
  if (!status.ok()) {
    failed_.fetch_add(1);
    log_->warn("{} publish failed: {}", name_, std::string(status.message()));
  }
  Complete(*log_, job->done, std::move(status));
  if (job->broadcast) Pump();
}

// Hands every unsent broadcast, in publish order, to the Sender (up to the window).
void PublishPipeline::Pump() {
  if (stopping_ || waiting_) return;
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    std::vector<JobPtr> batch;
    for (const JobPtr& job : queue_) {
      if (sent_ >= options_.pipeline_window) break;
      if (job->sent) continue;
      job->sent = true;
      ++sent_;
      batch.push_back(job);
    }
    for (const JobPtr& job : batch) {
      if (!stopping_ && !job->finished && job->sent) Send(job);
    }
  } while (pump_again_ && !stopping_ && !waiting_);
  pumping_ = false;
}

void PublishPipeline::SchedulePump(milliseconds delay) {
  if (stopping_) return;
  if (delay.count() <= 0) {
    if (pump_posted_) return;
    pump_posted_ = true;
    asio::post(io_, [this] {
      pump_posted_ = false;
      Pump();
    });
    return;
  }
  if (waiting_) return;  // a retry delay runs already; it pumps when it ends
  waiting_ = true;
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    waiting_ = false;
    Pump();
  });
}

milliseconds PublishPipeline::RetryDelay(int attempts) const {
  milliseconds d = options_.publish_retry_delay;
  for (int i = 1; i < attempts && d < options_.publish_retry_max_delay; ++i) d *= 2;
  return std::min(d, options_.publish_retry_max_delay);
}

void PublishPipeline::Shutdown(const absl::Status& why) {
  stopping_ = true;
  timer_.cancel();
  auto queue = std::exchange(queue_, {});
  sent_ = 0;
  depth_ = 0;
  for (const JobPtr& job : queue) {
    if (!job->finished) {
      job->finished = true;
      Complete(*log_, job->done, why);
    }
  }
  auto others = std::exchange(others_, {});
  for (const JobPtr& job : others) {
    if (!job->finished) {
      job->finished = true;
      Complete(*log_, job->done, why);
    }
  }
}

}  // namespace sockudo::bus::redis
