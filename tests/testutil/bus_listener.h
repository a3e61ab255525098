// File: bus_listener.h
// What the bus driver tests (redis, redis-cluster, Sentinel, nats) share to watch a Transport:
//   RecordingListener  records every Listener call (messages, health changes, resubscriptions)
//                      and the threads they came from; WaitFor() waits on a predicate that runs
//                      under its lock (use the *Locked / *_locked accessors inside it).
//   Completions        hands out Completions and collects their statuses, both by publish
//                      (results(), in the order Add() was called) and by arrival (statuses()).
//   Await              publishes with a Completion and waits for its status.
//   CountNodes         Transport::CountNodes, waited for.
//   Eventually         polls a predicate (state without a notification, like Healthy()).
//   MakeIdentity       "node-<n>" (or "controlplane-<n>" for an observer) with a reply id.
// Every wait has a deadline. Header-only.
//
//   testutil::RecordingListener listener;
//   ASSERT_TRUE(transport.Start(testutil::MakeIdentity(1), &listener).ok());
//   ASSERT_TRUE(testutil::Await([&](bus::Completion c) { transport.Publish(ch, "x", c); }).ok());
//   ASSERT_TRUE(listener.WaitFor([&] { return listener.HasLocked(ch, "x"); }));
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/bus/transport.h"

namespace sockudo::testutil {

// Records every Listener call; every wait is bounded.
class RecordingListener : public bus::Transport::Listener {
 public:
  void OnMessage(bus::Incoming message) override {
    std::lock_guard lock(mu_);
    Seen();
    messages_.push_back(std::move(message));
    cv_.notify_all();
  }
  void OnResubscribed() override {
    std::lock_guard lock(mu_);
    Seen();
    ++resubscribed_;
    cv_.notify_all();
  }
  void OnHealthChanged(bool healthy) override {
    std::lock_guard lock(mu_);
    Seen();
    health_.push_back(healthy);
    cv_.notify_all();
  }

  // Waits until `pred` (called under the lock) holds.
  bool WaitFor(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  bool WaitForMessages(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitFor([&] { return messages_.size() >= n; }, timeout);
  }
  // Waits for `payload` on `channel`.
  bool WaitFor(bus::Channel channel, const std::string& payload,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitFor([&] { return HasLocked(channel, payload); }, timeout);
  }

  std::vector<bus::Incoming> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<bus::Incoming> On(bus::Channel channel) {
    std::lock_guard lock(mu_);
    std::vector<bus::Incoming> out;
    for (const bus::Incoming& m : messages_) {
      if (m.channel == channel) out.push_back(m);
    }
    return out;
  }
  std::vector<std::string> Payloads(bus::Channel channel) {
    std::lock_guard lock(mu_);
    return PayloadsLocked(channel);
  }
  bool Has(bus::Channel channel, const std::string& payload) {
    std::lock_guard lock(mu_);
    return HasLocked(channel, payload);
  }
  // A message on any channel whose payload starts with `prefix`.
  bool HasPayloadPrefix(const std::string& prefix) {
    std::lock_guard lock(mu_);
    for (const bus::Incoming& m : messages_) {
      if (m.payload.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  int resubscribed() {
    std::lock_guard lock(mu_);
    return resubscribed_;
  }
  std::vector<bool> health() {
    std::lock_guard lock(mu_);
    return health_;
  }
  // The threads Listener calls came from (one expected, never the test's).
  std::set<std::thread::id> threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

  // For WaitFor predicates (the lock is held).
  const std::vector<bus::Incoming>& messages_locked() const { return messages_; }
  int resubscribed_locked() const { return resubscribed_; }
  const std::vector<bool>& health_locked() const { return health_; }
  size_t CountLocked(bus::Channel channel) const {
    size_t n = 0;
    for (const bus::Incoming& m : messages_) n += m.channel == channel ? 1 : 0;
    return n;
  }
  bool HasLocked(bus::Channel channel, const std::string& payload) const {
    for (const bus::Incoming& m : messages_) {
      if (m.channel == channel && m.payload == payload) return true;
    }
    return false;
  }
  std::vector<std::string> PayloadsLocked(bus::Channel channel) const {
    std::vector<std::string> out;
    for (const bus::Incoming& m : messages_) {
      if (m.channel == channel) out.push_back(m.payload);
    }
    return out;
  }

 private:
  void Seen() { threads_.insert(std::this_thread::get_id()); }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bus::Incoming> messages_;
  int resubscribed_ = 0;
  std::vector<bool> health_;
  std::set<std::thread::id> threads_;
};

// Collects Completions and waits for them; records the threads they ran on.
class Completions {
 public:
  bus::Completion Add() {
    std::lock_guard lock(mu_);
    size_t index = results_.size();
    results_.emplace_back();
    return [this, index](absl::Status st) {
      std::lock_guard lock(mu_);
      statuses_.push_back(st);
      threads_.insert(std::this_thread::get_id());
      results_[index] = std::move(st);
      cv_.notify_all();
    };
  }
  // Every Completion handed out ran.
  bool WaitAll(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return statuses_.size() == results_.size(); });
  }
  // At least `n` ran.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return statuses_.size() >= n; });
  }
  // By Add() order; nullopt for those that did not run yet.
  std::vector<std::optional<absl::Status>> results() {
    std::lock_guard lock(mu_);
    return results_;
  }
  // In the order they ran.
  std::vector<absl::Status> statuses() {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  size_t ok() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const absl::Status& s : statuses_) n += s.ok() ? 1 : 0;
    return n;
  }
  std::set<std::thread::id> threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<absl::Status>> results_;
  std::vector<absl::Status> statuses_;
  std::set<std::thread::id> threads_;
};

// The status of one publish, waited for.
inline absl::Status Await(const std::function<void(bus::Completion)>& publish,
                          std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  auto future = promise->get_future();
  publish([promise](absl::Status st) { promise->set_value(std::move(st)); });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError("no completion");
  }
  return future.get();
}

// Transport::CountNodes, waited for (nullopt as well when it does not answer in time).
inline std::optional<size_t> CountNodes(
    bus::Transport& transport, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto promise = std::make_shared<std::promise<std::optional<size_t>>>();
  auto future = promise->get_future();
  transport.CountNodes([promise](std::optional<size_t> n) { promise->set_value(n); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// Polls `pred` (no lock) every `poll` until it holds or `timeout` passed.
inline bool Eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

// "node-<n>", or "controlplane-<n>" for an observer; the reply id is 31 'a' and n's last digit.
inline bus::Identity MakeIdentity(int n, bool observer = false) {
  bus::Identity id;
  id.node_id = observer ? absl::StrCat("controlplane-", n) : absl::StrCat("node-", n);
  id.reply_hex = absl::StrCat(std::string(31, 'a'), n % 10);
  id.observer = observer;
  return id;
}

}  // namespace sockudo::testutil
