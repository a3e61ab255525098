// File: webhook_dispatcher.h
// The node's webhook service: the data path hands events over with Emit() (non-blocking, a bounded
// intake); a router thread resolves the app's webhook list, matches event types and filters, groups
// by URL, batches when webhooks.batching.enabled, and enqueues jobs on the queue driver;
// `concurrency` delivery threads claim jobs and POST them (signed with the app secret read at
// delivery time), acking on 2xx, rescheduling retryable failures with exponential backoff and
// jitter on the queue's delayed set (so a failing endpoint holds no thread), and dead-lettering the
// rest. One URL never holds more than half of the delivery threads, so a slow endpoint cannot stall
// the others.
//
// Start() / Stop(): Stop flushes the intake and the batches into the queue, then (memory driver)
// keeps delivering ready jobs for up to queue.reliability.shutdown_timeout_ms, and no later than
// the shutdown deadline (BeginShutdown; else shutdown_grace_period from Stop), and logs what it
// drops; with Redis the jobs stay queued for other nodes. From BeginShutdown on, no delivery
// attempt outlives the deadline.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/apps/app_store.h"
#include "common/config/config.h"
#include "dataplane/metrics/metrics.h"
#include "dataplane/webhooks/queue/queue.h"
#include "dataplane/webhooks/webhook_job.h"
#include "dataplane/webhooks/webhook_sink.h"
#include "dataplane/webhooks/webhook_targets.h"

namespace sockudo::dataplane::webhooks {

class WebhookDispatcher : public WebhookSink {
 public:
  // The queue named by queue.driver (`none`: no queue, events are counted as dropped).
  static absl::StatusOr<std::unique_ptr<WebhookDispatcher>> Create(
      const config::Config& config, apps::AppStore& apps, metrics::WebhookCounters& counters);
  WebhookDispatcher(const config::Config& config, apps::AppStore& apps,
                    metrics::WebhookCounters& counters, std::unique_ptr<Queue> queue);
  ~WebhookDispatcher() override;

  // WebhookSink
  bool Wants(const apps::App& app, std::string_view event_name) const override;
  void Emit(const apps::App& app, WebhookEvent event) override;
  void EmitFor(const std::string& app_id, WebhookEvent event) override;

  void Start();
  // The node's shutdown ends at `deadline`: attempts from now on end by then, and so does Stop.
  void BeginShutdown(std::chrono::steady_clock::time_point deadline);
  void Stop();

  Queue* queue() { return queue_.get(); }

  // The app's parsed webhook list, cached while the app record stays the same.
  std::shared_ptr<const WebhookTargets> TargetsOf(const apps::App& app) const;

 private:
  struct Intake {
    std::string app_id;
    WebhookEvent event;
    int64_t time_ms = 0;
  };
  struct Batch {
    WebhookJob job;
    std::chrono::steady_clock::time_point deadline;
  };
  struct CachedTargets {
    base::Json source;  // the webhooks JSON it was parsed from
    std::shared_ptr<const WebhookTargets> targets;
  };

  void RouterLoop();
  void Route(Intake item);
  void EnqueueJob(const WebhookJob& job);
  void FlushBatches(bool all);
  void WorkerLoop();
  void Deliver(QueuedJob qjob);
  bool TakeUrlSlot(const std::string& url);
  void ReleaseUrlSlot(const std::string& url);
  void UpdateDepth();

  const config::Config& config_;
  apps::AppStore& apps_;
  metrics::WebhookCounters& counters_;
  std::unique_ptr<Queue> queue_;
  const size_t concurrency_;
  const size_t per_url_cap_;
  const RetryPolicy policy_;

  mutable std::mutex targets_mu_;
  mutable std::map<std::string, CachedTargets, std::less<>> targets_ ABSL_GUARDED_BY(targets_mu_);

  std::mutex intake_mu_;
  std::condition_variable intake_cv_;
  std::deque<Intake> intake_ ABSL_GUARDED_BY(intake_mu_);
  bool router_stop_ ABSL_GUARDED_BY(intake_mu_) = false;
  std::atomic<bool> accepting_{false};

  // Router thread only.
  std::map<std::pair<std::string, std::string>, Batch> batches_;

  std::mutex url_mu_;
  std::map<std::string, size_t, std::less<>> in_flight_ ABSL_GUARDED_BY(url_mu_);

  // BeginShutdown's deadline (steady clock, ns since its epoch); max while none is set.
  std::atomic<int64_t> shutdown_deadline_ns_{std::numeric_limits<int64_t>::max()};
  std::optional<std::chrono::steady_clock::time_point> ShutdownDeadline() const;

  std::atomic<bool> workers_stop_{false};
  std::thread router_;
  std::vector<std::thread> workers_;
  bool started_ = false;
};

}  // namespace sockudo::dataplane::webhooks
