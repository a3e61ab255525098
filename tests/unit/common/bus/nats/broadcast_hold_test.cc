// BroadcastHold: open passes through; closed keeps in order up to its limit; Open sends what
// waits in order; FailAll fails it.
#include "common/bus/nats/broadcast_hold.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sockudo::bus::nats {
namespace {

struct Outcomes {
  std::vector<std::string> sent;
  std::vector<absl::Status> failed;
  BroadcastHold::Fail fail = [this](Completion done, absl::Status why) {
    failed.push_back(why);
    if (done) done(why);
  };
  BroadcastHold::Send send = [this](const std::string& payload, Completion done) {
    sent.push_back(payload);
    if (done) done(absl::OkStatus());
  };
};

bool Keep(BroadcastHold& hold, Outcomes& o, std::string payload) {
  Completion done = nullptr;
  return hold.Keep(payload, done, o.fail);
}

TEST(BroadcastHoldTest, OpenPassesThrough) {
  BroadcastHold hold(2);
  Outcomes o;
  EXPECT_FALSE(Keep(hold, o, "a"));
  EXPECT_EQ(hold.size(), 0u);
}

TEST(BroadcastHoldTest, ClosedKeepsInOrderUntilOpenAndFailsPastItsLimit) {
  BroadcastHold hold(2);
  Outcomes o;
  hold.Close();
  EXPECT_TRUE(Keep(hold, o, "a"));
  EXPECT_TRUE(Keep(hold, o, "b"));
  EXPECT_TRUE(Keep(hold, o, "c"));  // over the limit: failed, not kept
  ASSERT_EQ(o.failed.size(), 1u);
  EXPECT_TRUE(absl::IsResourceExhausted(o.failed[0])) << o.failed[0];
  EXPECT_EQ(hold.size(), 2u);
  EXPECT_EQ(hold.Open(o.send), 2u);
  EXPECT_EQ(o.sent, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(hold.closed());
  EXPECT_FALSE(Keep(hold, o, "d"));
}

TEST(BroadcastHoldTest, FailAllFailsWhatWaitsAndOpens) {
  BroadcastHold hold(10);
  Outcomes o;
  hold.Close();
  absl::Status seen;
  std::string payload = "a";
  Completion done = [&](absl::Status s) { seen = s; };
  EXPECT_TRUE(hold.Keep(payload, done, o.fail));
  hold.FailAll(absl::CancelledError("stopped"), o.fail);
  EXPECT_TRUE(absl::IsCancelled(seen)) << seen;
  EXPECT_EQ(hold.size(), 0u);
  EXPECT_FALSE(hold.closed());
}

}  // namespace
}  // namespace sockudo::bus::nats
