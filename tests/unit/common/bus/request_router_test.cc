// The requester's side of spec/cluster.md §6.2-§6.4 on an io_context the test runs itself:
// completion when every expected responder answered, the deadline (incomplete, with what
// arrived), early return, duplicate / own / late / unknown responses dropped, Fail(), CancelAll()
// and the fast / full deadlines of §6.3. Every wait is bounded.
#include "common/bus/request_router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sockudo::bus {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kLong(10000);  // a deadline no test reaches

ResponseBody Response(const std::string& request_id, const std::string& node,
                      int64_t sockets_count = 0, bool exists = false) {
  ResponseBody r;
  r.request_id = request_id;
  r.node_id = node;
  r.app_id = "app-id";
  r.sockets_count = sockets_count;
  r.exists = exists;
  return r;
}

std::vector<std::string> Responders(const RequestRouter::Result& r) {
  std::vector<std::string> out;
  for (const ResponseBody& resp : r.responses) out.push_back(resp.node_id);
  return out;
}

class RequestRouterTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done` holds or `limit` passes; true when it held.
  bool RunUntil(const std::function<bool()>& done, milliseconds limit = milliseconds(1500)) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(milliseconds(5));
    }
    return true;
  }
  // Runs whatever is ready now (posted handlers), without waiting.
  void RunReady() {
    if (io_.stopped()) io_.restart();
    io_.poll();
  }

  // A `done` that records into results_[key].
  RequestRouter::Done Record(const std::string& key) {
    return [this, key](RequestRouter::Result r) { results_[key].push_back(std::move(r)); };
  }
  size_t Calls(const std::string& key) { return results_[key].size(); }

  boost::asio::io_context io_;
  RequestRouter router_{io_, "self", milliseconds(5000)};
  std::map<std::string, std::vector<RequestRouter::Result>> results_;
};

TEST_F(RequestRouterTest, AllExpectedResponsesCompleteTheRequest) {
  router_.Expect("r1", 2, kLong, nullptr, Record("r1"));
  EXPECT_EQ(router_.pending(), 1u);
  router_.OnResponse(Response("r1", "node-b", 3));
  EXPECT_EQ(Calls("r1"), 0u);
  router_.OnResponse(Response("r1", "node-a", 4));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  const RequestRouter::Result& r = results_["r1"][0];
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.expected, 2u);
  EXPECT_THAT(Responders(r), ElementsAre("node-b", "node-a"));  // arrival order
  EXPECT_EQ(r.responses[0].sockets_count + r.responses[1].sockets_count, 7);
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.resolved(), 1);
  EXPECT_EQ(router_.uncomplete(), 0);
}

TEST_F(RequestRouterTest, NoExpectedResponderCompletesLaterNotInsideExpect) {
  router_.Expect("r1", 0, kLong, nullptr, Record("r1"));
  EXPECT_EQ(Calls("r1"), 0u);  // never inside the call
  RunReady();
  ASSERT_EQ(Calls("r1"), 1u);
  EXPECT_TRUE(results_["r1"][0].complete);
  EXPECT_TRUE(results_["r1"][0].responses.empty());
  EXPECT_EQ(router_.pending(), 0u);
}

TEST_F(RequestRouterTest, DeadlineFinishesIncompleteWithWhatArrived) {
  const auto start = Clock::now();
  router_.Expect("r1", 3, milliseconds(60), nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "node-b", 5));
  RunReady();
  EXPECT_EQ(Calls("r1"), 0u);
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_GE(Clock::now() - start, milliseconds(60));
  const RequestRouter::Result& r = results_["r1"][0];
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.expected, 3u);
  EXPECT_THAT(Responders(r), ElementsAre("node-b"));
  EXPECT_EQ(r.responses[0].sockets_count, 5);
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.resolved(), 0);
  EXPECT_EQ(router_.uncomplete(), 1);
}

TEST_F(RequestRouterTest, DeadlineWithNoResponseAtAll) {
  router_.Expect("r1", 1, milliseconds(20), nullptr, Record("r1"));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_FALSE(results_["r1"][0].complete);
  EXPECT_TRUE(results_["r1"][0].responses.empty());
}

TEST_F(RequestRouterTest, EarlyReturnSettlesOnTheFirstPositiveResponse) {
  router_.Expect(
      "r1", 3, kLong, [](const ResponseBody& r) { return r.exists; }, Record("r1"));
  router_.OnResponse(Response("r1", "node-b", 0, /*exists=*/false));
  EXPECT_EQ(Calls("r1"), 0u);
  router_.OnResponse(Response("r1", "node-c", 0, /*exists=*/true));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  const RequestRouter::Result& r = results_["r1"][0];
  EXPECT_TRUE(r.complete);  // the answer is settled, though node-d never answered
  EXPECT_THAT(Responders(r), ElementsAre("node-b", "node-c"));
  EXPECT_EQ(router_.pending(), 0u);
  // node-d answering now changes nothing.
  router_.OnResponse(Response("r1", "node-d", 0, true));
  RunReady();
  EXPECT_EQ(Calls("r1"), 1u);
}

TEST_F(RequestRouterTest, EarlyReturnThatNeverHoldsWaitsForEveryone) {
  router_.Expect(
      "r1", 2, kLong, [](const ResponseBody& r) { return r.sockets_count > 0; }, Record("r1"));
  router_.OnResponse(Response("r1", "node-b", 0));
  EXPECT_EQ(Calls("r1"), 0u);
  router_.OnResponse(Response("r1", "node-c", 0));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_TRUE(results_["r1"][0].complete);
  EXPECT_EQ(results_["r1"][0].responses.size(), 2u);
}

TEST_F(RequestRouterTest, ADuplicateResponseFromOneNodeIsCountedOnce) {
  router_.Expect("r1", 2, milliseconds(80), nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "node-b", 1));
  router_.OnResponse(Response("r1", "node-b", 1));  // the same responder again
  RunReady();
  EXPECT_EQ(Calls("r1"), 0u) << "two responses from one node must not complete 2 expected";
  EXPECT_EQ(router_.pending(), 1u);
  router_.OnResponse(Response("r1", "node-c", 1));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  const RequestRouter::Result& r = results_["r1"][0];
  EXPECT_TRUE(r.complete);
  EXPECT_THAT(Responders(r), ElementsAre("node-b", "node-c"));
}

TEST_F(RequestRouterTest, ADuplicateAloneTimesOutIncompleteWithOneResponse) {
  router_.Expect("r1", 2, milliseconds(40), nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "node-b", 1));
  router_.OnResponse(Response("r1", "node-b", 1));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_FALSE(results_["r1"][0].complete);
  EXPECT_THAT(Responders(results_["r1"][0]), ElementsAre("node-b"));
}

TEST_F(RequestRouterTest, OwnResponsesAreIgnored) {
  router_.Expect("r1", 1, milliseconds(40), nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "self", 9));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_FALSE(results_["r1"][0].complete);
  EXPECT_TRUE(results_["r1"][0].responses.empty());
}

TEST_F(RequestRouterTest, ALateResponseAfterCompletionIsIgnored) {
  router_.Expect("r1", 1, milliseconds(50), nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "node-b"));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  router_.OnResponse(Response("r1", "node-c"));
  router_.OnResponse(Response("r1", "node-b"));
  // Past the old deadline too: its timer must not finish anything a second time.
  RunUntil([] { return false; }, milliseconds(100));
  EXPECT_EQ(Calls("r1"), 1u);
  EXPECT_TRUE(results_["r1"][0].complete);
  EXPECT_EQ(results_["r1"][0].responses.size(), 1u);
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.resolved(), 1);
  EXPECT_EQ(router_.uncomplete(), 0);
}

TEST_F(RequestRouterTest, ALateResponseAfterTheDeadlineIsIgnored) {
  router_.Expect("r1", 1, milliseconds(20), nullptr, Record("r1"));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  router_.OnResponse(Response("r1", "node-b"));
  RunReady();
  EXPECT_EQ(Calls("r1"), 1u);
  EXPECT_FALSE(results_["r1"][0].complete);
  EXPECT_EQ(router_.pending(), 0u);
}

TEST_F(RequestRouterTest, AnUnknownRequestIdIsIgnored) {
  router_.Expect("r1", 1, kLong, nullptr, Record("r1"));
  router_.OnResponse(Response("not-a-request", "node-b"));
  router_.OnResponse(Response("", "node-b"));
  RunReady();
  EXPECT_EQ(Calls("r1"), 0u);
  EXPECT_EQ(router_.pending(), 1u);
  router_.OnResponse(Response("r1", "node-b"));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_TRUE(results_["r1"][0].complete);
}

TEST_F(RequestRouterTest, ResponsesGoToTheirOwnRequest) {
  router_.Expect("r1", 1, kLong, nullptr, Record("r1"));
  router_.Expect("r2", 2, kLong, nullptr, Record("r2"));
  router_.OnResponse(Response("r2", "node-b", 2));
  router_.OnResponse(Response("r1", "node-c", 1));
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }));
  EXPECT_EQ(Calls("r2"), 0u);
  EXPECT_THAT(Responders(results_["r1"][0]), ElementsAre("node-c"));
  router_.OnResponse(Response("r2", "node-c", 3));
  ASSERT_TRUE(RunUntil([&] { return Calls("r2") == 1; }));
  EXPECT_THAT(Responders(results_["r2"][0]), ElementsAre("node-b", "node-c"));
}

TEST_F(RequestRouterTest, FailFinishesAtOnceIncomplete) {
  router_.Expect("r1", 2, kLong, nullptr, Record("r1"));
  router_.OnResponse(Response("r1", "node-b"));
  router_.Fail("r1");
  ASSERT_TRUE(RunUntil([&] { return Calls("r1") == 1; }, milliseconds(200)));
  EXPECT_FALSE(results_["r1"][0].complete);
  EXPECT_EQ(results_["r1"][0].responses.size(), 1u);
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.uncomplete(), 1);
  // Failing again, or failing an unknown id, does nothing.
  router_.Fail("r1");
  router_.Fail("nope");
  router_.OnResponse(Response("r1", "node-c"));
  RunReady();
  EXPECT_EQ(Calls("r1"), 1u);
}

TEST_F(RequestRouterTest, CancelAllFinishesEveryPendingRequestIncomplete) {
  router_.Expect("r1", 1, kLong, nullptr, Record("r1"));
  router_.Expect("r2", 2, kLong, nullptr, Record("r2"));
  router_.Expect("r3", 3, kLong, nullptr, Record("r3"));
  router_.OnResponse(Response("r3", "node-b"));
  router_.CancelAll();
  RunReady();
  for (const char* id : {"r1", "r2", "r3"}) {
    ASSERT_EQ(Calls(id), 1u) << id;
    EXPECT_FALSE(results_[id][0].complete) << id;
  }
  EXPECT_EQ(results_["r3"][0].responses.size(), 1u);
  EXPECT_EQ(router_.pending(), 0u);
  EXPECT_EQ(router_.uncomplete(), 3);
  router_.CancelAll();  // nothing left: a no-op
  RunReady();
  EXPECT_EQ(Calls("r1") + Calls("r2") + Calls("r3"), 3u);
}

TEST_F(RequestRouterTest, ARepeatedIdKeepsTheFirstRegistration) {
  router_.Expect("r1", 1, kLong, nullptr, Record("first"));
  // Same correlation id again, with a short deadline: refused, and its callback still runs once.
  router_.Expect("r1", 1, milliseconds(20), nullptr, Record("second"));
  ASSERT_TRUE(RunUntil([&] { return Calls("second") == 1; }));
  EXPECT_FALSE(results_["second"][0].complete);
  // The refused registration's deadline must not end the first one.
  RunUntil([] { return false; }, milliseconds(60));
  EXPECT_EQ(Calls("first"), 0u);
  EXPECT_EQ(router_.pending(), 1u);
  router_.OnResponse(Response("r1", "node-b"));
  ASSERT_TRUE(RunUntil([&] { return Calls("first") == 1; }));
  EXPECT_TRUE(results_["first"][0].complete);
}

TEST_F(RequestRouterTest, DestroyingTheRouterWithPendingRequestsIsSafe) {
  boost::asio::io_context io;
  int calls = 0;
  {
    RequestRouter router(io, "self", milliseconds(100));
    router.Expect("r1", 1, milliseconds(10), nullptr, [&](RequestRouter::Result) { ++calls; });
  }
  io.run_for(milliseconds(50));  // the cancelled timer's handler runs and touches nothing
  EXPECT_EQ(calls, 0);
}

// ---------------------------------------------------------------------------------------------
// §6.3: fast class clamp(50 ms x (peers + 1), min(200 ms, T), T); every other type T.

TEST(RequestTimeoutTest, FastClassScalesWithTheClusterWithinItsClamp) {
  const milliseconds redis(5000);
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 0, redis), milliseconds(200));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 3, redis), milliseconds(200));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 4, redis), milliseconds(250));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 9, redis), milliseconds(500));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 99, redis), milliseconds(5000));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketExistsInChannel, 1000, redis), milliseconds(5000));

  const milliseconds cluster(1000);  // adapter.cluster.request_timeout_ms
  EXPECT_EQ(RequestTimeout(RequestType::kSocketsCount, 1, cluster), milliseconds(200));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketsCount, 7, cluster), milliseconds(400));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketsCount, 19, cluster), milliseconds(1000));
  EXPECT_EQ(RequestTimeout(RequestType::kSocketsCount, 50, cluster), milliseconds(1000));
}

TEST(RequestTimeoutTest, FastClassNeverExceedsASmallBase) {
  // min(200 ms, T): with T below 200 ms the deadline is T whatever the cluster size.
  EXPECT_EQ(RequestTimeout(RequestType::kChannels, 0, milliseconds(100)), milliseconds(100));
  EXPECT_EQ(RequestTimeout(RequestType::kChannels, 10, milliseconds(100)), milliseconds(100));
  EXPECT_EQ(RequestTimeout(RequestType::kSockets, 0, milliseconds(30)), milliseconds(30));
  EXPECT_EQ(RequestTimeout(RequestType::kSockets, 0, milliseconds(200)), milliseconds(200));
  EXPECT_EQ(RequestTimeout(RequestType::kSockets, 5, milliseconds(250)), milliseconds(250));
}

TEST(RequestTimeoutTest, EveryFastTypeUsesTheClamp) {
  for (RequestType type : {RequestType::kSocketExistsInChannel, RequestType::kSocketsCount,
                           RequestType::kChannels, RequestType::kSockets}) {
    EXPECT_EQ(RequestTimeout(type, 9, milliseconds(5000)), milliseconds(500))
        << RequestTypeName(type);
  }
}

TEST(RequestTimeoutTest, FullClassWaitsTheBaseTimeout) {
  for (RequestType type :
       {RequestType::kChannelMembers, RequestType::kChannelMembersCount,
        RequestType::kChannelSockets, RequestType::kChannelSocketsCount,
        RequestType::kBatchChannelSocketsCount, RequestType::kChannelsWithSocketsCount,
        RequestType::kCountUserConnectionsInChannel, RequestType::kTerminateUserConnections,
        RequestType::kForceReconnect}) {
    EXPECT_EQ(RequestTimeout(type, 0, milliseconds(5000)), milliseconds(5000))
        << RequestTypeName(type);
    EXPECT_EQ(RequestTimeout(type, 500, milliseconds(1000)), milliseconds(1000))
        << RequestTypeName(type);
    EXPECT_EQ(RequestTimeout(type, 3, milliseconds(100)), milliseconds(100))
        << RequestTypeName(type);
  }
}

}  // namespace
}  // namespace sockudo::bus
