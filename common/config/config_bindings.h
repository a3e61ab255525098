// File: config_bindings.h
// The table that ties each config key (docs/configuration.md) to its Config field, its environment
// variables, its type and its range. The loader and the printer both walk it, so a key is
// declared once. Internal to common/config.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/config/config.h"

namespace sockudo::config::internal {

using Target =
    std::variant<bool*, int64_t*, double*, std::string*, std::vector<std::string>*,
                 std::optional<std::string>*, std::optional<int64_t>*, std::optional<bool>*>;

struct Binding {
  std::string_view path;
  Target target;
  std::vector<std::string_view> env = {};  // most specific first
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  bool positive = false;  // an integer >= 1, out of range reported as "must be > 0"
  std::vector<std::string_view> choices = {};  // allowed values of a driver/enum (normalised)
  bool secret = false;
  bool env_empty_is_null = false;  // `VAR=` clears an optional value instead of being unset
  bool urls = false;               // value(s) are URLs: the printer masks their credentials
  bool driver = false;             // trimmed, lower-cased, redis_cluster -> redis-cluster
  bool env_zero_is_null = false;   // "0"/"none" in env clears an optional integer
  double dmin = -std::numeric_limits<double>::infinity();
  double dmax = std::numeric_limits<double>::infinity();
};

std::vector<Binding> Bindings(Config& c);

// `scheme://user:password@host…` with the password (or a lone user part, which may be a token)
// replaced by "***"; text without credentials is returned unchanged. Also used for values that
// do not parse, so that an error message never shows a secret.
std::string MaskUrlCredentials(std::string_view url);

}  // namespace sockudo::config::internal
