#include "dataplane/webhooks/webhook_targets.h"

#include "absl/strings/str_cat.h"

namespace sockudo::dataplane::webhooks {

bool WebhookFilter::Matches(std::string_view channel) const {
  if (never) return false;
  for (const std::string& p : starts_with) {
    if (!channel.starts_with(p)) return false;
  }
  for (const std::string& s : ends_with) {
    if (!channel.ends_with(s)) return false;
  }
  if (pattern.has_value()) {
    const std::string text(channel);
    if (!std::regex_search(text, *pattern)) return false;
  }
  return true;
}

absl::StatusOr<WebhookTargets> WebhookTargets::Parse(const base::Json& webhooks) {
  WebhookTargets out;
  if (!webhooks.is_array()) return out;
  for (const base::Json& hook : webhooks) {
    if (!hook.is_object()) continue;
    WebhookTarget t;
    if (auto it = hook.find("url"); it != hook.end() && it->is_string()) {
      t.url = it->get<std::string>();
    }
    if (auto it = hook.find("event_types"); it != hook.end() && it->is_array()) {
      for (const base::Json& name : *it) {
        if (name.is_string()) t.event_types.insert(name.get<std::string>());
      }
    }
    if (auto it = hook.find("headers"); it != hook.end() && it->is_object()) {
      for (auto h = it->begin(); h != it->end(); ++h) {
        if (h.value().is_string()) t.headers.emplace_back(h.key(), h.value().get<std::string>());
      }
    }
    if (auto it = hook.find("filter"); it != hook.end() && it->is_object()) {
      auto str = [&](const char* key) -> std::optional<std::string> {
        auto f = it->find(key);
        if (f == it->end() || !f->is_string()) return std::nullopt;
        return f->get<std::string>();
      };
      for (const char* key : {"channel_name_starts_with", "channel_prefix"}) {
        if (auto v = str(key)) t.filter.starts_with.push_back(*v);
      }
      for (const char* key : {"channel_name_ends_with", "channel_suffix"}) {
        if (auto v = str(key)) t.filter.ends_with.push_back(*v);
      }
      if (auto v = str("channel_pattern")) {
        try {
          t.filter.pattern.emplace(*v, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return absl::InvalidArgumentError(
              absl::StrCat("webhooks: invalid channel_pattern \"", *v, "\": ", e.what()));
        }
      }
      for (const char* key : {"channel_namespace", "channel_namespaces"}) {
        auto f = it->find(key);
        if (f != it->end() && !f->is_null()) t.filter.never = true;
      }
    }
    if (auto it = hook.find("request_timeout_ms");
        it != hook.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
      t.request_timeout_ms = it->get<int64_t>();
    }
    if (auto it = hook.find("retry"); it != hook.end() && it->is_object()) t.retry = *it;
    if (t.url.empty()) {
      ++out.without_url_;
      continue;
    }
    out.names_.insert(t.event_types.begin(), t.event_types.end());
    out.targets_.push_back(std::move(t));
  }
  return out;
}

bool WebhookTargets::Wants(std::string_view event_name) const {
  return names_.find(event_name) != names_.end();
}

std::vector<const WebhookTarget*> WebhookTargets::Match(std::string_view event_name,
                                                        std::string_view channel) const {
  std::vector<const WebhookTarget*> out;
  for (const WebhookTarget& t : targets_) {
    if (t.event_types.find(event_name) == t.event_types.end()) continue;
    if (!t.filter.Matches(channel)) continue;
    bool seen = false;
    for (const WebhookTarget* o : out) seen = seen || o->url == t.url;
    if (!seen) out.push_back(&t);
  }
  return out;
}

}  // namespace sockudo::dataplane::webhooks
