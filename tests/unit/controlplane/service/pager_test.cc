// Paging of the List calls: pages follow each other without gaps or repeats, whatever the page
// size; the last page has no token; the total counts every name visited; bad sizes and tokens
// are INVALID_ARGUMENT naming the field; sizes are bounded.
#include "controlplane/service/pager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sockudo::controlplane::service {
namespace {

using testing::HasSubstr;

// All pages of `names` (sorted) at `size` per page, as the client would fetch them.
std::vector<std::vector<std::string>> AllPages(const std::vector<std::string>& names, int size) {
  std::vector<std::vector<std::string>> pages;
  std::string token;
  for (int guard = 0; guard < 100; ++guard) {
    auto pager = Pager::Make(size, token, 100, "ListThings");
    EXPECT_TRUE(pager.ok()) << pager.status();
    std::vector<std::string> page;
    for (const auto& name : names) {
      if (pager->Take(name)) page.push_back(name);
    }
    EXPECT_EQ(pager->total(), static_cast<int32_t>(names.size()));
    pages.push_back(page);
    token = pager->next_page_token();
    if (token.empty()) break;
  }
  return pages;
}

TEST(PagerTest, PagesFollowEachOtherWithoutGapsOrRepeats) {
  const std::vector<std::string> names = {"a", "a:b", "b", "presence-room", "z"};
  using Pages = std::vector<std::vector<std::string>>;
  EXPECT_EQ(AllPages(names, 2), (Pages{{"a", "a:b"}, {"b", "presence-room"}, {"z"}}));
  EXPECT_EQ(AllPages(names, 5), (Pages{names}));  // exactly full: no token, no empty page
  EXPECT_EQ(AllPages(names, 0), (Pages{names}));  // 0: the default size
  EXPECT_EQ(AllPages({}, 3), (Pages{{}}));
}

TEST(PagerTest, TheTokenIsOpaqueAndABadOneNamesTheField) {
  auto first = Pager::Make(1, "", 100, "ListApps");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->Take("app-1"));
  EXPECT_FALSE(first->Take("app-2"));
  const std::string token = first->next_page_token();
  EXPECT_NE(token, "app-1");
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << token << " must go in a URL as it is";

  auto bad = Pager::Make(1, "!!", 100, "ListApps");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("page_token: not a token returned by ListApps"));
  auto negative = Pager::Make(-1, "", 100, "ListApps");
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("page_size"));
}

TEST(PagerTest, AHugePageIsCappedAtTheMaximum) {
  auto pager = Pager::Make(1 << 30, "", 100, "ListThings");
  ASSERT_TRUE(pager.ok());
  int taken = 0;
  for (int i = 0; i < Pager::kMaxPageSize + 5; ++i) {
    char name[16];
    snprintf(name, sizeof name, "n%06d", i);
    taken += pager->Take(name) ? 1 : 0;
  }
  EXPECT_EQ(taken, Pager::kMaxPageSize);
  EXPECT_FALSE(pager->next_page_token().empty());
}

}  // namespace
}  // namespace sockudo::controlplane::service
