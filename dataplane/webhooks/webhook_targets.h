// File: webhook_targets.h
// An app's webhook list parsed and matched: a target matches an event when its event_types list the
// name and every filter constraint holds for the channel; matches are grouped by URL (first
// matching configuration's headers and overrides). Immutable after Parse; shared between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/json.h"

namespace sockudo::dataplane::webhooks {

struct WebhookFilter {
  std::vector<std::string> starts_with;  // channel_name_starts_with, channel_prefix
  std::vector<std::string> ends_with;    // channel_name_ends_with, channel_suffix
  std::optional<std::regex> pattern;     // channel_pattern (ECMAScript, search)
  bool never = false;                    // channel_namespace(s): V2 only, never match
  bool Matches(std::string_view channel) const;
};

struct WebhookTarget {
  std::string url;  // empty: Lambda or no url, never delivered
  std::set<std::string, std::less<>> event_types;
  std::vector<std::pair<std::string, std::string>> headers;
  WebhookFilter filter;
  std::optional<int64_t> request_timeout_ms;
  base::Json retry;  // null or the per-webhook retry object
};

class WebhookTargets {
 public:
  // An invalid channel_pattern is an error naming it.
  static absl::StatusOr<WebhookTargets> Parse(const base::Json& webhooks);

  bool Wants(std::string_view event_name) const;
  // The targets the event goes to: one per distinct URL, in list order of first match.
  std::vector<const WebhookTarget*> Match(std::string_view event_name,
                                          std::string_view channel) const;
  const std::vector<WebhookTarget>& targets() const { return targets_; }
  size_t without_url() const { return without_url_; }

 private:
  std::vector<WebhookTarget> targets_;
  std::set<std::string, std::less<>> names_;
  size_t without_url_ = 0;
};

}  // namespace sockudo::dataplane::webhooks
