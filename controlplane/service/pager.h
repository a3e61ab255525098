// File: pager.h
// Paging of every List call (page_size, page_token, next_page_token, total_size): the caller
// visits its items in ascending order of their names and Take says which go on the page: those
// after the token's name, at most page_size of them. The token is the web-safe base64 of the
// last name of the page; clients treat it as opaque.
//
//   SOCKUDO_ASSIGN_OR_RETURN(Pager pager, Pager::Make(request.page_size(), request.page_token(),
//                                                     kDefaultPageSize, "ListApps"));
//   for (const auto& app : sorted) if (pager.Take(app.id)) *response.add_apps() = ...;
//   response.set_next_page_token(pager.next_page_token());
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace sockudo::controlplane::service {

class Pager {
 public:
  static constexpr int kMaxPageSize = 1000;

  // INVALID_ARGUMENT naming page_size (negative) or page_token (not one `method` returned).
  // A page_size of 0 means `default_size`; above kMaxPageSize means kMaxPageSize.
  static absl::StatusOr<Pager> Make(int32_t page_size, const std::string& page_token,
                                    int default_size, const char* method);

  // Visits the next name (ascending): true when its item goes on this page.
  bool Take(const std::string& name);
  // Names visited, on this page or not (the caller's total_size when it visits all of them).
  int32_t total() const { return total_; }
  // Empty when this page holds the last item.
  std::string next_page_token() const;

 private:
  Pager(std::string after, int size) : after_(std::move(after)), size_(size) {}

  std::string after_;  // the previous page's last name; empty on the first page
  int size_;
  int taken_ = 0;
  int32_t total_ = 0;
  bool more_ = false;
  std::string last_;
};

}  // namespace sockudo::controlplane::service
