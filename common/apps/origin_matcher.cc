#include "common/apps/origin_matcher.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/strings.h"

namespace sockudo::apps {
namespace {

std::string_view StripScheme(std::string_view origin) {
  const size_t pos = origin.find("://");
  return pos == std::string_view::npos ? origin : origin.substr(pos + 3);
}

}  // namespace

absl::Status ValidateOriginPattern(std::string_view pattern) {
  if (pattern.empty()) return absl::InvalidArgumentError("allowed_origins: empty pattern");
  if (std::count(pattern.begin(), pattern.end(), '*') > 1) {
    return absl::InvalidArgumentError("invalid pattern \"" + std::string(pattern) + "\"");
  }
  return absl::OkStatus();
}

bool OriginMatches(std::string_view raw_pattern, std::string_view raw_origin) {
  const std::string pattern = absl::AsciiStrToLower(base::Av(raw_pattern));
  const std::string origin = absl::AsciiStrToLower(base::Av(raw_origin));
  if (pattern == "*" || pattern == "any") return true;
  if (origin.empty()) return false;
  if (pattern == origin) return true;
  const bool pattern_has_scheme = pattern.find("://") != std::string::npos;
  if (pattern.starts_with("*.")) {
    // The domain itself and any subdomain, any scheme.
    const std::string_view domain = std::string_view(pattern).substr(2);
    const std::string_view host = StripScheme(origin);
    return host == domain || host.ends_with("." + std::string(domain));
  }
  const size_t star = pattern.find('*');
  if (star != std::string::npos) {
    const std::string_view prefix = std::string_view(pattern).substr(0, star);
    const std::string_view suffix = std::string_view(pattern).substr(star + 1);
    const std::string_view subject =
        pattern_has_scheme ? std::string_view(origin) : StripScheme(origin);
    return subject.size() >= prefix.size() + suffix.size() && subject.starts_with(prefix) &&
           subject.ends_with(suffix);
  }
  if (!pattern_has_scheme) return StripScheme(origin) == pattern;
  return false;
}

bool OriginAllowed(const std::vector<std::string>& patterns, std::string_view origin) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return OriginMatches(p, origin); });
}

}  // namespace sockudo::apps
