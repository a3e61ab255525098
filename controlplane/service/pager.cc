#include "controlplane/service/pager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sockudo::controlplane::service {

absl::StatusOr<Pager> Pager::Make(int32_t page_size, const std::string& page_token,
                                  int default_size, const char* method) {
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must be >= 0");
  std::string after;
  if (!page_token.empty() && (!absl::WebSafeBase64Unescape(page_token, &after) || after.empty())) {
    return absl::InvalidArgumentError(absl::StrCat("page_token: not a token returned by ", method));
  }
  return Pager(std::move(after), page_size == 0 ? default_size : std::min(page_size, kMaxPageSize));
}

bool Pager::Take(const std::string& name) {
  ++total_;
  if (!after_.empty() && name <= after_) return false;
  if (taken_ == size_) {
    more_ = true;
    return false;
  }
  ++taken_;
  last_ = name;
  return true;
}

std::string Pager::next_page_token() const {
  return more_ ? absl::WebSafeBase64Escape(last_) : std::string();
}

}  // namespace sockudo::controlplane::service
