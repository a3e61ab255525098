// PublishConfirmer with a flush the test controls: publishes complete only after a flush that
// started after them succeeded; a failed flush or a break fails them; Stop confirms what waits.
#include "common/bus/nats/publish_confirmer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

namespace sockudo::bus::nats {
namespace {

using namespace std::chrono_literals;

// A flush that blocks until the test releases it with an outcome.
class Gate {
 public:
  absl::Status Flush() {
    std::unique_lock lock(mu_);
    ++started_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_ > 0; });
    --released_;
    return outcome_;
  }
  void Release(absl::Status outcome) {
    std::lock_guard lock(mu_);
    outcome_ = outcome;
    ++released_;
    cv_.notify_all();
  }
  bool WaitStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return started_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  int released_ = 0;
  absl::Status outcome_;
};

struct Fixture {
  Fixture() { confirmer.Start(); }
  Gate gate;
  PublishConfirmer confirmer{[this] { return gate.Flush(); },
                             [](Completion done, absl::Status s) { done(s); }};
  std::future<absl::Status> Add() {
    auto p = std::make_shared<std::promise<absl::Status>>();
    auto f = p->get_future();
    confirmer.Add([p](absl::Status s) { p->set_value(s); });
    return f;
  }
  // One publish carried by the first flush (under way, not answered) and one that came after it.
  struct Pair {
    std::future<absl::Status> in_flush;
    std::future<absl::Status> waiting;
  };
  Pair OneInFlushOneWaiting() {
    Pair p;
    p.in_flush = Add();
    EXPECT_TRUE(gate.WaitStarted(1));
    p.waiting = Add();
    return p;
  }
};

bool Done(std::future<absl::Status>& f) { return f.wait_for(0s) == std::future_status::ready; }

TEST(PublishConfirmerTest, CompletesOnlyAfterTheServerAnsweredAFlush) {
  Fixture f;
  auto [first, second] = f.OneInFlushOneWaiting();  // second waits for the next flush
  EXPECT_FALSE(Done(first));
  f.gate.Release(absl::OkStatus());
  EXPECT_TRUE(first.get().ok());
  ASSERT_TRUE(f.gate.WaitStarted(2));
  EXPECT_FALSE(Done(second));
  f.gate.Release(absl::UnavailableError("timeout"));
  const absl::Status s = second.get();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("did not confirm"), std::string_view::npos) << s;
  f.confirmer.Stop();
  EXPECT_EQ(f.confirmer.flushes(), 2u);
}

TEST(PublishConfirmerTest, ABreakFailsWhatWaitsAndWhatAFlushUnderWayCarries) {
  Fixture f;
  auto [in_flush, waiting] = f.OneInFlushOneWaiting();
  f.confirmer.Broke();
  EXPECT_TRUE(absl::IsUnavailable(waiting.get()));
  // The flush answers on the new connection: it proves nothing about the old one.
  f.gate.Release(absl::OkStatus());
  EXPECT_TRUE(absl::IsUnavailable(in_flush.get()));
  f.confirmer.Stop();
}

TEST(PublishConfirmerTest, StopConfirmsWhatWaitsWithOneLastFlush) {
  Fixture f;
  auto [first, last] = f.OneInFlushOneWaiting();
  f.gate.Release(absl::OkStatus());
  f.gate.Release(absl::OkStatus());  // for the last flush Stop runs
  f.confirmer.Stop();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(last.get().ok());
}

}  // namespace
}  // namespace sockudo::bus::nats
