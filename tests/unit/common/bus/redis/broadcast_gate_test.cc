// BroadcastGate: broadcasts pass at once while nothing broke; after a break they wait, in order,
// until the count is back, or for the limit when it never is.
#include "common/bus/redis/broadcast_gate.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/logging.h"

namespace sockudo::bus::redis {
namespace {

using namespace std::chrono_literals;

struct GateFixture {
  boost::asio::io_context io;
  std::optional<int64_t> count;  // what the broker answers now
  bool answer = true;            // false: counts never come back
  int counts = 0;
  std::vector<std::string> sent;
  BroadcastGate gate{io, base::Logger("test.gate"), [this](BroadcastGate::CountDone done) {
                       ++counts;
                       if (answer) done(count);
                     }};
  void Send(std::string what) {
    gate.Pass([this, what] { sent.push_back(what); });
  }
  void RunFor(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
};

TEST(BroadcastGateTest, OpenPassesAtOnceWithoutCounting) {
  GateFixture f;
  f.gate.set_expected(3);
  f.Send("a");
  f.Send("b");
  EXPECT_EQ(f.sent, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.counts, 0);
}

TEST(BroadcastGateTest, AfterABreakBroadcastsWaitInOrderUntilTheCountIsBack) {
  GateFixture f;
  f.gate.set_expected(3);
  f.gate.Close();
  f.count = 1;
  f.Send("a");
  f.Send("b");
  EXPECT_TRUE(f.sent.empty());
  f.RunFor(100ms);
  EXPECT_TRUE(f.sent.empty());
  EXPECT_GE(f.counts, 2);  // polled again
  f.count = std::nullopt;  // the broker cannot tell for a while
  f.RunFor(60ms);
  EXPECT_TRUE(f.sent.empty());
  f.count = 3;
  f.Send("c");
  f.RunFor(60ms);
  EXPECT_EQ(f.sent, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(f.gate.closed());
  const int counts = f.counts;
  f.Send("d");  // open again: at once
  EXPECT_EQ(f.sent.back(), "d");
  EXPECT_EQ(f.counts, counts);
}

TEST(BroadcastGateTest, TheLimitOpensTheGateWhenTheCountNeverComesBack) {
  GateFixture f;
  f.gate.set_expected(2);
  f.gate.Close();
  f.answer = false;  // a node that does not answer
  const auto start = std::chrono::steady_clock::now();
  f.Send("a");
  while (f.sent.empty() && std::chrono::steady_clock::now() - start < 10s) f.RunFor(50ms);
  EXPECT_EQ(f.sent, (std::vector<std::string>{"a"}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, BroadcastGate::kLimit);
}

TEST(BroadcastGateTest, ShutdownDropsWhatWaits) {
  GateFixture f;
  f.gate.set_expected(1);
  f.gate.Close();
  f.count = 0;
  f.Send("a");
  f.gate.Shutdown();
  f.count = 1;
  f.RunFor(100ms);
  f.Send("b");
  EXPECT_TRUE(f.sent.empty());
}

}  // namespace
}  // namespace sockudo::bus::redis
