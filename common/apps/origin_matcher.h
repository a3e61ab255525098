// File: origin_matcher.h
// Origin patterns shared by an app's `allowed_origins` and `cors.origin`: `*`/`any`, an exact
// origin, a bare host (any scheme), `*.example.com` (the domain and its subdomains) or one `*`
// wildcard such as `https://*.example.com`. Matching is case-insensitive. Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sockudo::apps {

// Error for an empty pattern or one with more than one `*`.
absl::Status ValidateOriginPattern(std::string_view pattern);

bool OriginMatches(std::string_view pattern, std::string_view origin);
bool OriginAllowed(const std::vector<std::string>& patterns, std::string_view origin);

}  // namespace sockudo::apps
