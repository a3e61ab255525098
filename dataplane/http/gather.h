// File: gather.h
// Collects N asynchronous answers into slots and calls `done` once, after the last one, on the
// thread that delivered it. For handlers that ask the adapter several questions.
//
//   auto g = Gather<base::Json>::Create(n, [](std::vector<base::Json> all) { ... });
//   for (i...) Ask(i, [g, i](base::Json v) { g->Set(i, std::move(v)); });
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace sockudo::dataplane::http {

template <typename T>
class Gather {
 public:
  static std::shared_ptr<Gather> Create(size_t n, std::function<void(std::vector<T>)> done) {
    auto g = std::shared_ptr<Gather>(new Gather(n, std::move(done)));
    if (n == 0) g->done_(std::move(g->slots_));
    return g;
  }

  void Set(size_t index, T value) {
    bool last = false;
    {
      std::lock_guard lock(mu_);
      slots_[index] = std::move(value);
      last = --remaining_ == 0;
    }
    if (last) done_(std::move(slots_));
  }

 private:
  Gather(size_t n, std::function<void(std::vector<T>)> done)
      : slots_(n), remaining_(n), done_(std::move(done)) {}
  std::mutex mu_;
  std::vector<T> slots_;
  size_t remaining_;
  std::function<void(std::vector<T>)> done_;
};

}  // namespace sockudo::dataplane::http
