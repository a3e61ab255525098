// File: webhook_job.h
// A webhook job and its queue payload: the app, one URL, the headers and per-webhook overrides
// captured at enqueue, the body's time_ms and events, and the delivery state kept across retries
// (first attempt time, attempts made). The body is rebuilt from the events with the serializer of
// body_serializer.h, so every retry sends the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/json.h"

namespace sockudo::dataplane::webhooks {

struct WebhookJob {
  std::string app_id;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<int64_t> request_timeout_ms;
  base::Json retry;  // null or the per-webhook retry object
  int64_t time_ms = 0;
  base::Json events = base::Json::array();
  // Delivery state.
  int64_t attempts = 0;
  std::optional<int64_t> first_attempt_ms;

  std::string ToPayload() const;
  static std::optional<WebhookJob> FromPayload(const std::string& payload);
  std::string Body() const;  // {"time_ms":...,"events":[...]}
};

// The effective retry policy: the webhook's `retry` object over the server's webhooks.retry.
struct RetryPolicy {
  bool enabled = true;
  std::optional<int64_t> max_attempts;
  int64_t max_elapsed_time_ms = 300000;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 60000;

  RetryPolicy Overridden(const base::Json& retry) const;
  // Wait before attempt `attempts + 1` after `attempts` failed ones (1 s, 2 s, 4 s ... capped),
  // before jitter.
  int64_t BackoffMs(int64_t attempts) const;
};

// True for the failures worth retrying: no response, 5xx, 408, 425, 429.
bool Retryable(int status);

}  // namespace sockudo::dataplane::webhooks
