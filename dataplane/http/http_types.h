// File: http_types.h
// Transport-free HTTP request and response, so the API handlers compile without Beast.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sockudo::dataplane::http {

struct HttpRequest {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // raw path before '?', not percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  std::string body;
  std::string origin;             // the Origin header, "" when absent
  bool metrics_listener = false;  // arrived on the metrics port

  // The last value of a query parameter, or nullptr.
  const std::string* Param(std::string_view key) const {
    const std::string* found = nullptr;
    for (const auto& [k, v] : query) {
      if (k == key) found = &v;
    }
    return found;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// Handlers answer through this exactly once, from any thread.
using Respond = std::function<void(HttpResponse)>;

HttpResponse JsonError(int status, std::string_view message);
HttpResponse JsonOk(std::string body);
HttpResponse Text(int status, std::string body);

// Percent-decoding of a path segment or query value ('+' stays '+').
std::string PercentDecode(std::string_view in);
// Splits "a=1&b=2" into decoded pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace sockudo::dataplane::http
