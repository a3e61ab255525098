// BroadcastGate: broadcasts pass at once while nothing broke; after a break they wait, in order,
// until the count is back, or for the limit when it never is.
#include "common/bus/redis/broadcast_gate.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/base/logging.h"

namespace sockudo::bus::redis {
namespace {

using namespace std::chrono_literals;

struct GateFixture {
  boost::asio::io_context io;
  std::optional<size_t> count;  // what the broker answers now
  bool answer = true;           // false: counts never come back
  int counts = 0;
  std::vector<std::string> sent;
  BroadcastGate gate{io, base::Logger("test.gate"), [this](BroadcastGate::CountDone done) {
                       ++counts;
                       if (answer) done(count);
                     }};
  void Send(std::string what) {
    gate.Pass([this, what] { sent.push_back(what); });
  }
  // A break after which the gate waits for `expected` subscribers.
  void Break(size_t expected) {
    gate.set_expected(expected);
    gate.Close();
  }
  void RunFor(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
  // Runs the io until `done` holds (true) or 10 s passed.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) RunFor(10ms);
    return done();
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
  f.Break(3);
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
  ASSERT_TRUE(f.RunUntil([&] { return !f.sent.empty(); }));
  EXPECT_EQ(f.sent, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(f.gate.closed());
  const int counts = f.counts;
  f.Send("d");  // open again: at once
  EXPECT_EQ(f.sent.back(), "d");
  EXPECT_EQ(f.counts, counts);
}

TEST(BroadcastGateTest, TheLimitOpensTheGateWhenTheCountNeverComesBack) {
  GateFixture f;
  f.Break(2);
  f.answer = false;  // a node that does not answer
  const auto start = std::chrono::steady_clock::now();
  f.Send("a");
  ASSERT_TRUE(f.RunUntil([&] { return !f.sent.empty(); }));
  EXPECT_EQ(f.sent, (std::vector<std::string>{"a"}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, BroadcastGate::kLimit);
}

TEST(BroadcastGateTest, ShutdownDropsWhatWaits) {
  GateFixture f;
  f.Break(1);
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
