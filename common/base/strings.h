// File: strings.h
// Debian's Abseil is built with its own absl::string_view, distinct from std::string_view. These
// helpers cross between the two where our code (std::string_view) calls Abseil string functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace sockudo::base {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace sockudo::base
