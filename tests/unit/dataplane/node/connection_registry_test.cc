#include "dataplane/node/connection_registry.h"

#include <gtest/gtest.h>

#include <regex>

namespace sockudo::dataplane::node {
namespace {

TEST(ConnectionRegistryTest, NodeCapAndAppQuota) {
  ConnectionRegistry r;
  EXPECT_EQ(r.Admit("a", "1.1", 0, 2), Admission::kAdmitted);
  EXPECT_EQ(r.Admit("a", "1.2", 0, 2), Admission::kAdmitted);
  EXPECT_EQ(r.Admit("a", "1.3", 0, 2), Admission::kAppOverQuota);
  EXPECT_EQ(r.Admit("b", "1.1", 0, 0), Admission::kDuplicateId);
  EXPECT_EQ(r.Admit("b", "1.4", 3, 0), Admission::kAdmitted);
  EXPECT_EQ(r.Admit("b", "1.5", 3, 0), Admission::kNodeFull);
  r.Release("a", "1.1");
  EXPECT_EQ(r.AppConnections("a"), 1);
  EXPECT_EQ(r.Admit("a", "1.3", 0, 2), Admission::kAdmitted);
}

TEST(ConnectionRegistryTest, SocketIdsMatchThePusherFormat) {
  const std::regex format(R"(^\d+\.\d+$)");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(NewSocketId(), format));
  EXPECT_NE(NewSocketId(), NewSocketId());
}

}  // namespace
}  // namespace sockudo::dataplane::node
