#include "dataplane/webhooks/webhook_dispatcher.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "common/bus/redis/blocking_pool.h"
#include "common/crypto/hmac.h"
#include "dataplane/webhooks/queue/memory_queue.h"
#include "dataplane/webhooks/queue/redis_queue.h"
#include "dataplane/webhooks/webhook_sender.h"

namespace sockudo::dataplane::webhooks {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kIntakeCapacity = 100000;
// A job whose URL has all its delivery slots taken waits this long before it is tried again.
constexpr std::chrono::milliseconds kBusyUrlDelay{50};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Add(std::atomic<int64_t>& c, int64_t n) { c.fetch_add(n, std::memory_order_relaxed); }

RetryPolicy PolicyOf(const config::WebhooksConfig& w) {
  RetryPolicy p;
  p.enabled = w.retry_enabled;
  p.max_attempts = w.retry_max_attempts;
  p.max_elapsed_time_ms = w.retry_max_elapsed_time_ms;
  p.initial_backoff_ms = w.retry_initial_backoff_ms;
  p.max_backoff_ms = std::max(w.retry_max_backoff_ms, w.retry_initial_backoff_ms);
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookDispatcher>> WebhookDispatcher::Create(
    const config::Config& config, apps::AppStore& apps, metrics::WebhookCounters& counters) {
  std::unique_ptr<Queue> queue;
  const std::string& driver = config.queue.driver;
  if (driver == "memory") {
    queue = std::make_unique<MemoryQueue>(static_cast<size_t>(config.queue.memory_capacity));
  } else if (driver == "redis" || driver == "redis-cluster") {
    RedisQueue::Options o;
    o.target = config.app_manager.redis;  // database.redis after REDIS_URL
    if (driver == "redis-cluster") {
      // The cluster seeds, with the credentials the config loader resolved for them.
      auto pool = bus::redis::PoolOptionsFor(config, driver, "queue.driver");
      if (!pool.ok()) return pool.status();
      o.seeds = pool->endpoints;
    }
    o.prefix = config.queue.redis_prefix.value_or(absl::StrCat(config.redis.key_prefix, "queue:"));
    o.timeout = std::chrono::milliseconds(config.queue.redis_response_timeout_ms);
    o.lease = std::chrono::milliseconds(config.queue.lease_duration_ms);
    o.max_lease_expiries = config.queue.max_attempts;
    o.batch = config.queue.stalled_batch_size;
    o.failed_retention = config.queue.failed_retention;
    auto q = RedisQueue::Connect(std::move(o));
    if (!q.ok()) return q.status();
    queue = *std::move(q);
  }
  return std::make_unique<WebhookDispatcher>(config, apps, counters, std::move(queue));
}

WebhookDispatcher::WebhookDispatcher(const config::Config& config, apps::AppStore& apps,
                                     metrics::WebhookCounters& counters,
                                     std::unique_ptr<Queue> queue)
    : config_(config),
      apps_(apps),
      counters_(counters),
      queue_(std::move(queue)),
      concurrency_(static_cast<size_t>(std::clamp<int64_t>(config.queue.redis_concurrency, 1, 20))),
      per_url_cap_(std::max<size_t>(1, concurrency_ / 2)),
      policy_(PolicyOf(config.webhooks)) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

std::shared_ptr<const WebhookTargets> WebhookDispatcher::TargetsOf(const apps::App& app) const {
  std::lock_guard lock(targets_mu_);
  CachedTargets& slot = targets_[app.id];
  // Compared by value: an App's address says nothing once its record was replaced (a freed
  // record's address can come back for another), and the list is a few objects.
  if (slot.targets != nullptr && slot.source == app.webhooks) return slot.targets;
  auto parsed = WebhookTargets::Parse(app.webhooks);
  auto log = base::Logger("webhooks");
  if (!parsed.ok()) {
    log->error("app {}: {}; its webhooks are off", app.id, std::string(parsed.status().message()));
    slot.targets = std::make_shared<const WebhookTargets>();
  } else {
    if (parsed->without_url() > 0) {
      log->warn("app {}: {} webhook(s) without url (Lambda) are not supported and ignored", app.id,
                parsed->without_url());
    }
    slot.targets = std::make_shared<const WebhookTargets>(*std::move(parsed));
  }
  slot.source = app.webhooks;
  return slot.targets;
}

bool WebhookDispatcher::Wants(const apps::App& app, std::string_view event_name) const {
  if (!app.webhooks.is_array() || app.webhooks.empty()) return false;
  return TargetsOf(app)->Wants(event_name);
}

void WebhookDispatcher::Emit(const apps::App& app, WebhookEvent event) {
  if (!Wants(app, event.name)) return;
  EmitFor(app.id, std::move(event));
}

void WebhookDispatcher::EmitFor(const std::string& app_id, WebhookEvent event) {
  if (!accepting_.load(std::memory_order_acquire) || queue_ == nullptr) {
    Add(counters_.dropped, 1);
    return;
  }
  {
    std::lock_guard lock(intake_mu_);
    if (intake_.size() >= kIntakeCapacity) {
      Add(counters_.dropped, 1);
      return;
    }
    intake_.push_back({app_id, std::move(event), WallMs()});
  }
  intake_cv_.notify_one();
}

void WebhookDispatcher::Start() {
  if (started_) return;
  started_ = true;
  accepting_.store(true);
  router_ = std::thread([this] { RouterLoop(); });
  if (queue_ != nullptr) {
    for (size_t i = 0; i < concurrency_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void WebhookDispatcher::BeginShutdown(Clock::time_point deadline) {
  shutdown_deadline_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
}

std::optional<Clock::time_point> WebhookDispatcher::ShutdownDeadline() const {
  const int64_t ns = shutdown_deadline_ns_.load();
  if (ns == std::numeric_limits<int64_t>::max()) return std::nullopt;
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

void WebhookDispatcher::Stop() {
  if (!started_) return;
  started_ = false;
  accepting_.store(false);
  {
    std::lock_guard lock(intake_mu_);
    router_stop_ = true;
  }
  intake_cv_.notify_all();
  router_.join();  // the intake and every batch are in the queue now
  auto log = base::Logger("webhooks");
  if (queue_ != nullptr && queue_->Volatile() > 0) {
    const auto now = Clock::now();
    const auto end = ShutdownDeadline().value_or(
        now + std::chrono::seconds(std::max<int64_t>(config_.shutdown_grace_period, 1)));
    const auto deadline =
        std::min(end, now + std::chrono::milliseconds(config_.queue.shutdown_timeout_ms));
    for (;;) {
      const QueueDepth d = queue_->Depth();
      if (d.wait + d.active == 0 || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  workers_stop_.store(true);
  if (queue_ != nullptr) queue_->Wake();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (queue_ != nullptr && queue_->Volatile() > 0) {
    Add(counters_.dropped, queue_->Volatile());
    log->warn("shutdown: {} webhook job(s) of the memory queue dropped", queue_->Volatile());
  }
  UpdateDepth();
}

void WebhookDispatcher::RouterLoop() {
  auto next_depth = Clock::now();
  for (;;) {
    std::deque<Intake> items;
    bool stop = false;
    {
      std::unique_lock lock(intake_mu_);
      auto until = Clock::now() + std::chrono::milliseconds(500);
      for (const auto& [key, batch] : batches_) until = std::min(until, batch.deadline);
      intake_cv_.wait_until(lock, until, [&] { return router_stop_ || !intake_.empty(); });
      items.swap(intake_);
      stop = router_stop_;
    }
    for (Intake& item : items) Route(std::move(item));
    FlushBatches(stop);
    if (stop) return;
    if (Clock::now() >= next_depth) {
      UpdateDepth();
      next_depth = Clock::now() + std::chrono::milliseconds(500);
    }
  }
}

void WebhookDispatcher::Route(Intake item) {
  std::shared_ptr<const apps::App> app = apps_.FindById(item.app_id);
  if (app == nullptr || !app->webhooks.is_array() || app->webhooks.empty()) return;
  auto targets = TargetsOf(*app);
  for (const WebhookTarget* t : targets->Match(item.event.name, item.event.channel)) {
    if (!config_.webhooks.batching_enabled) {
      WebhookJob job;
      job.app_id = item.app_id;
      job.url = t->url;
      job.headers = t->headers;
      job.request_timeout_ms = t->request_timeout_ms;
      job.retry = t->retry;
      job.time_ms = item.time_ms;
      job.events.push_back(item.event.object);
      EnqueueJob(job);
      continue;
    }
    auto key = std::make_pair(item.app_id, t->url);
    auto it = batches_.find(key);
    if (it == batches_.end()) {
      Batch b;
      b.job.app_id = item.app_id;
      b.job.url = t->url;
      b.job.headers = t->headers;
      b.job.request_timeout_ms = t->request_timeout_ms;
      b.job.retry = t->retry;
      b.job.time_ms = item.time_ms;
      b.deadline = Clock::now() + std::chrono::milliseconds(config_.webhooks.batching_duration_ms);
      it = batches_.emplace(key, std::move(b)).first;
    }
    it->second.job.events.push_back(item.event.object);
    if (static_cast<int64_t>(it->second.job.events.size()) >= config_.webhooks.batching_size) {
      EnqueueJob(it->second.job);
      batches_.erase(it);
    }
  }
}

void WebhookDispatcher::FlushBatches(bool all) {
  const auto now = Clock::now();
  for (auto it = batches_.begin(); it != batches_.end();) {
    if (all || it->second.deadline <= now) {
      EnqueueJob(it->second.job);
      it = batches_.erase(it);
    } else {
      ++it;
    }
  }
}

void WebhookDispatcher::EnqueueJob(const WebhookJob& job) {
  const int64_t n = static_cast<int64_t>(job.events.size());
  absl::Status st = queue_->Enqueue(job.ToPayload());
  if (!st.ok()) {
    Add(counters_.dropped, n);
    static std::atomic<int64_t> last_log{0};
    const int64_t now = WallMs();
    if (now - last_log.load() > 10000) {
      last_log.store(now);
      base::Logger("webhooks")
          ->error("app {}: webhook job for {} dropped: {}", job.app_id, job.url,
                  std::string(st.message()));
    }
    return;
  }
  Add(counters_.enqueued, 1);
}

void WebhookDispatcher::WorkerLoop() {
  const auto poll =
      std::chrono::milliseconds(std::min<int64_t>(config_.queue.worker_poll_interval_ms, 1000));
  while (!workers_stop_.load()) {
    std::optional<QueuedJob> job = queue_->Claim(poll);
    if (!job.has_value()) continue;
    if (workers_stop_.load()) {
      // Claimed during shutdown: back to the queue at once (Redis keeps it for other nodes).
      queue_->Retry(*job, job->payload, std::chrono::milliseconds(0));
      break;
    }
    Deliver(*std::move(job));
  }
}

bool WebhookDispatcher::TakeUrlSlot(const std::string& url) {
  std::lock_guard lock(url_mu_);
  size_t& n = in_flight_[url];
  if (n >= per_url_cap_) return false;
  ++n;
  return true;
}

void WebhookDispatcher::ReleaseUrlSlot(const std::string& url) {
  std::lock_guard lock(url_mu_);
  auto it = in_flight_.find(url);
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
}

void WebhookDispatcher::Deliver(QueuedJob qjob) {
  auto log = base::Logger("webhooks");
  std::optional<WebhookJob> job = WebhookJob::FromPayload(qjob.payload);
  if (!job.has_value()) {
    log->error("webhook job {}: unreadable payload, dead-lettered", qjob.id);
    queue_->DeadLetter(qjob, "permanent");
    Add(counters_.dead_lettered, 1);
    return;
  }
  std::shared_ptr<const apps::App> app = apps_.FindById(job->app_id);
  if (app == nullptr) {
    log->info("webhook job {}: app {} no longer exists, nothing to deliver", qjob.id, job->app_id);
    queue_->Ack(qjob);
    return;
  }
  if (!TakeUrlSlot(job->url)) {
    queue_->Retry(qjob, qjob.payload, kBusyUrlDelay);
    return;
  }
  const std::string body = job->Body();
  const std::string signature = crypto::HmacSha256Hex(app->secret, body);
  auto timeout = std::chrono::milliseconds(
      job->request_timeout_ms.value_or(config_.webhooks.request_timeout_ms));
  if (const auto end = ShutdownDeadline()) {
    // The node is going: the attempt ends with it (a cut attempt is retried, by another node
    // with a shared queue).
    timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*end - Clock::now()),
                         std::chrono::milliseconds(1), timeout);
  }
  const int64_t started = WallMs();
  const auto t0 = Clock::now();
  HttpAttempt attempt = PostWebhook(job->url, job->headers, app->key, signature, body, timeout);
  ReleaseUrlSlot(job->url);
  Add(counters_.delivery_ms_total,
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
  if (attempt.status >= 200 && attempt.status < 300) {
    queue_->Ack(qjob);
    Add(counters_.sent, 1);
    return;
  }
  Add(counters_.failed, 1);
  job->attempts += 1;
  if (!job->first_attempt_ms.has_value()) job->first_attempt_ms = started;
  const std::string why =
      attempt.status != 0 ? absl::StrCat("HTTP ", attempt.status) : attempt.error;
  if (!Retryable(attempt.status)) {
    log->warn("app {}: webhook to {} failed for good ({}), dead-lettered", job->app_id, job->url,
              why);
    queue_->DeadLetter(qjob, "permanent");
    Add(counters_.dead_lettered, 1);
    return;
  }
  const RetryPolicy policy = policy_.Overridden(job->retry);
  int64_t delay = policy.BackoffMs(job->attempts);
  const double jitter = std::clamp(config_.queue.retry_jitter, 0.0, 1.0);
  if (jitter > 0) {
    const double u = static_cast<double>(crypto::SecureRandom(2000001)) / 1000000.0 - 1.0;
    delay =
        std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(delay) * (1.0 + jitter * u)));
  }
  const int64_t elapsed = WallMs() - *job->first_attempt_ms;
  const bool exhausted =
      !policy.enabled ||
      (policy.max_attempts.has_value() && job->attempts >= *policy.max_attempts) ||
      elapsed + delay > policy.max_elapsed_time_ms;
  if (exhausted) {
    log->warn("app {}: webhook to {} failed {} time(s) (last: {}), dead-lettered", job->app_id,
              job->url, job->attempts, why);
    queue_->DeadLetter(qjob, "retries-exhausted");
    Add(counters_.dead_lettered, 1);
    return;
  }
  log->debug("app {}: webhook to {} failed ({}), retry in {} ms", job->app_id, job->url, why,
             delay);
  queue_->Retry(qjob, job->ToPayload(), std::chrono::milliseconds(delay));
  Add(counters_.retried, 1);
}

void WebhookDispatcher::UpdateDepth() {
  if (queue_ == nullptr) return;
  const QueueDepth d = queue_->Depth();
  counters_.queue_wait.store(d.wait, std::memory_order_relaxed);
  counters_.queue_delayed.store(d.delayed, std::memory_order_relaxed);
  counters_.queue_active.store(d.active, std::memory_order_relaxed);
  counters_.queue_dlq.store(d.dlq, std::memory_order_relaxed);
}

}  // namespace sockudo::dataplane::webhooks
