// File: housekeeper.h
// A thread of its own for periodic chores that must not run on a worker: today, returning the
// memory a burst left free to the kernel (base::ReleaseFreeMemory, which takes malloc's arena
// locks for a moment). Start() and Stop() from the main thread; Stop() wakes it at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sockudo::dataplane::server {

class Housekeeper {
 public:
  Housekeeper(std::chrono::milliseconds interval, std::function<void()> chore)
      : interval_(interval), chore_(std::move(chore)) {}
  ~Housekeeper() { Stop(); }

  void Start();
  void Stop();

 private:
  const std::chrono::milliseconds interval_;
  std::function<void()> chore_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sockudo::dataplane::server
