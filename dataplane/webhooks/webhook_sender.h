// File: webhook_sender.h
// One webhook HTTP attempt: POST `body` to an http:// or https:// URL with the custom headers first
// and Content-Type / X-Pusher-Key / X-Pusher-Signature written last (so they cannot be replaced),
// within `timeout` for the whole attempt (resolve, connect, TLS, write, read). Redirects are not
// followed. Blocking: runs on the calling thread with an io_context of its own; meant for the
// dispatcher's delivery threads. Thread-safe (no state).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sockudo::dataplane::webhooks {

struct HttpAttempt {
  int status = 0;     // HTTP status; 0 = no response (connection error, timeout)
  std::string error;  // why there was no response
};

struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, "/" at least
};

// nullopt-like: ok=false when the URL is not http(s)://host[:port][/path].
bool ParseUrl(const std::string& url, ParsedUrl* out);

HttpAttempt PostWebhook(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& app_key, const std::string& signature,
                        const std::string& body, std::chrono::milliseconds timeout);

}  // namespace sockudo::dataplane::webhooks
