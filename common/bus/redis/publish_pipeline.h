// File: publish_pipeline.h
// Every publish of a Redis bus driver until it completes (shared by redis and redis-cluster):
//
//   broadcasts  one ordered, pipelined, bounded pipeline. Up to queue_limit messages wait or are
//               in flight; past it Reserve() refuses (the publish is dropped and counted). Up to
//               pipeline_window of them are handed to the Sender at once, in publish order. When
//               one must go again, the others wait for it (head of line): nothing is handed out
//               until its retry delay ended, then everything unacknowledged goes again in order.
//   others      requests, responses and inbox publishes: sent at once, each retried on its own.
//   outcomes    the Sender reports each send as
//                 kDone    complete with this status (OK, or the server's refusal: ACL, OOM...;
//                          retrying would not help);
//                 kRetry   a connection-level failure: the publish-retry policy applies, the
//                          next try after publish_retry_delay doubling up to
//                          publish_retry_max_delay (100, 200, 400 ms); after 1 + publish_retries
//                          attempts the publish fails with kUnavailable;
//                 kResend  again after `delay` without spending an attempt (a redirection).
//               Publishes that fail are counted (failed()) and logged.
//
// What a send is (which connection, which command, what a reply means) is the driver's Sender.
// A Job carries two fields for it (redirects, ask_node); the pipeline never reads them.
//
// Threads: Reserve(), FullError() and the counters from any thread; everything else, the Sender
// and every Completion on the io_context's thread.
//
//   PublishPipeline pipeline(io, "redis", options, log, [&](const JobPtr& job, Reply reply) {
//     conn->Command({"PUBLISH", job->channel, job->payload}, [reply](auto r) {
//       reply(r.ok() ? Outcome::Done(absl::OkStatus()) : Outcome::Retry(r.status()));
//     });
//   });
//   if (pipeline.Reserve()) pipeline.Add(channel, payload, done, /*broadcast=*/true);
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "absl/status/status.h"
#include "common/bus/redis/redis_bus_options.h"
#include "common/bus/transport.h"
#include "spdlog/spdlog.h"

namespace sockudo::bus::redis {

class PublishPipeline {
 public:
  // One publish until it completes.
  struct Job {
    std::string channel;
    std::string payload;
    Completion done;
    bool broadcast = false;
    int attempts = 0;      // failed attempts so far (kRetry)
    int redirects = 0;     // the Sender's: redirections followed (redis-cluster)
    std::string ask_node;  // the Sender's: where the next send goes once (redis-cluster -ASK)
    uint64_t send_id = 0;  // the send under way; what older sends still report is ignored
    bool sent = false;     // broadcast: handed to the Sender, outcome pending
    bool finished = false;

    // True while the send numbered `id` is the one that counts.
    bool Current(uint64_t id) const { return !finished && send_id == id; }
  };
  using JobPtr = std::shared_ptr<Job>;

  struct Outcome {
    enum class Kind { kDone, kRetry, kResend };
    Kind kind = Kind::kDone;
    absl::Status status;                 // kDone: the result; kRetry: why
    std::chrono::milliseconds delay{0};  // kResend

    static Outcome Done(absl::Status status) { return {Kind::kDone, std::move(status), {}}; }
    static Outcome Retry(absl::Status why) { return {Kind::kRetry, std::move(why), {}}; }
    static Outcome Resend(std::chrono::milliseconds delay) {
      return {Kind::kResend, absl::OkStatus(), delay};
    }
  };
  // Reports the outcome of one send, once; ignored when the send no longer counts.
  using Reply = std::function<void(Outcome)>;
  // Sends `job` once (job->send_id numbers this send) and reports through `reply`, at once or
  // later, on the io thread.
  using Sender = std::function<void(const JobPtr& job, Reply reply)>;

  // `name` ("redis", "redis-cluster") starts error texts and logs.
  PublishPipeline(boost::asio::io_context& io, std::string name, const RedisBusOptions& options,
                  std::shared_ptr<spdlog::logger> log, Sender sender);
  PublishPipeline(const PublishPipeline&) = delete;
  PublishPipeline& operator=(const PublishPipeline&) = delete;

  // --- Any thread ---
  // Takes a place for one broadcast; false when the pipeline is full (dropped and counted: the
  // caller completes it with FullError()).
  bool Reserve();
  absl::Status FullError() const;
  uint64_t dropped() const { return dropped_.load(); }  // broadcasts refused by Reserve
  uint64_t failed() const { return failed_.load(); }    // publishes failed after their retries
  size_t depth() const { return depth_.load(); }        // broadcasts queued or in flight

  // --- io thread ---
  // A broadcast needs the place Reserve() took.
  void Add(std::string channel, std::string payload, Completion done, bool broadcast);
  // Fails every publish still pending with `why`; nothing is sent afterwards.
  void Shutdown(const absl::Status& why);

 private:
  void Send(const JobPtr& job);
  void OnOutcome(const JobPtr& job, Outcome outcome);
  void Resend(const JobPtr& job, std::chrono::milliseconds delay);
  void Finish(const JobPtr& job, absl::Status status);
  void MarkUnsent(Job& job);
  void Pump();
  void SchedulePump(std::chrono::milliseconds delay);
  std::chrono::milliseconds RetryDelay(int attempts) const;

  boost::asio::io_context& io_;
  const std::string name_;
  const RedisBusOptions options_;
  const std::shared_ptr<spdlog::logger> log_;
  const Sender sender_;

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<size_t> depth_{0};

  // io thread only below.
  bool stopping_ = false;
  std::deque<JobPtr> queue_;  // unfinished broadcasts, in publish order
  size_t sent_ = 0;           // of which handed to the Sender
  bool pumping_ = false;
  bool pump_again_ = false;
  bool pump_posted_ = false;
  bool waiting_ = false;  // a retry delay runs: broadcasts wait (head of line)
  boost::asio::steady_timer timer_;
  std::unordered_set<JobPtr> others_;  // publishes other than broadcasts
};

}  // namespace sockudo::bus::redis
