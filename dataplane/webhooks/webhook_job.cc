#include "dataplane/webhooks/webhook_job.h"

#include <algorithm>

#include "dataplane/webhooks/body_serializer.h"

namespace sockudo::dataplane::webhooks {

std::string WebhookJob::ToPayload() const {
  base::Json j = base::Json::object();
  j["app_id"] = app_id;
  j["url"] = url;
  base::Json h = base::Json::object();
  for (const auto& [name, value] : headers) h[name] = value;
  j["headers"] = std::move(h);
  j["request_timeout_ms"] =
      request_timeout_ms.has_value() ? base::Json(*request_timeout_ms) : base::Json();
  j["retry"] = retry;
  j["time_ms"] = time_ms;
  j["events"] = events;
  j["attempts"] = attempts;
  j["first_attempt_ms"] =
      first_attempt_ms.has_value() ? base::Json(*first_attempt_ms) : base::Json();
  return base::Dump(j);
}

std::optional<WebhookJob> WebhookJob::FromPayload(const std::string& payload) {
  auto parsed = base::ParseJson(payload);
  if (!parsed.has_value() || !parsed->is_object()) return std::nullopt;
  const base::Json& j = *parsed;
  WebhookJob job;
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  auto num = [&](const char* key) -> std::optional<int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  job.app_id = str("app_id");
  job.url = str("url");
  if (job.app_id.empty() || job.url.empty()) return std::nullopt;
  if (auto it = j.find("headers"); it != j.end() && it->is_object()) {
    for (auto h = it->begin(); h != it->end(); ++h) {
      if (h.value().is_string()) job.headers.emplace_back(h.key(), h.value().get<std::string>());
    }
  }
  job.request_timeout_ms = num("request_timeout_ms");
  if (auto it = j.find("retry"); it != j.end()) job.retry = *it;
  job.time_ms = num("time_ms").value_or(0);
  if (auto it = j.find("events"); it != j.end() && it->is_array()) job.events = *it;
  job.attempts = num("attempts").value_or(0);
  job.first_attempt_ms = num("first_attempt_ms");
  return job;
}

std::string WebhookJob::Body() const { return WebhookBody(time_ms, events); }

RetryPolicy RetryPolicy::Overridden(const base::Json& retry) const {
  RetryPolicy p = *this;
  if (!retry.is_object()) return p;
  auto num = [&](const char* key) -> std::optional<int64_t> {
    auto it = retry.find(key);
    if (it == retry.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  if (auto it = retry.find("enabled"); it != retry.end() && it->is_boolean()) {
    p.enabled = it->get<bool>();
  }
  if (auto v = num("max_attempts"); v && *v >= 1) p.max_attempts = v;
  if (auto v = num("max_elapsed_time_ms"); v && *v >= 0) p.max_elapsed_time_ms = *v;
  if (auto v = num("initial_backoff_ms"); v && *v >= 1) p.initial_backoff_ms = *v;
  if (auto v = num("max_backoff_ms"); v && *v >= 1) p.max_backoff_ms = *v;
  return p;
}

int64_t RetryPolicy::BackoffMs(int64_t attempts) const {
  int64_t delay = initial_backoff_ms;
  for (int64_t i = 1; i < attempts && delay < max_backoff_ms; ++i) delay *= 2;
  return std::min(delay, max_backoff_ms);
}

bool Retryable(int status) {
  return status == 0 || status >= 500 || status == 408 || status == 425 || status == 429;
}

}  // namespace sockudo::dataplane::webhooks
