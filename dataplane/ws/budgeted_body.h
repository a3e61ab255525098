// File: budgeted_body.h
// A Beast body type for HTTP API requests that holds the body as a std::string grown with the
// bytes that arrive, never with the length a Content-Length header announces (Beast's
// string_body reserves that up front: 50 requests announcing 10 MiB with 1 KB sent held 500 MB),
// and that charges what it holds to the node's inbound budget (node/memory_budget.h), like the
// WebSocket read buffers. Past the budget the read fails with body_limit and `over_budget` is
// set, so the session answers 503 instead of 413. The charge is released when the body is taken
// or destroyed.
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <string>
#include <utility>

#include "dataplane/node/memory_budget.h"

namespace sockudo::dataplane::ws {

struct BudgetedBody {
  class value_type {
   public:
    value_type() = default;
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;
    ~value_type() { Settle(0); }

    void set_budget(node::MemoryBudget* budget) { budget_ = budget; }
    bool over_budget() const { return over_budget_; }
    size_t size() const { return text_.size(); }
    // Hands the body over and releases its charge.
    std::string Take() {
      std::string out = std::move(text_);
      text_ = std::string();
      Settle(0);
      return out;
    }

    // Appends `n` bytes from `data`; false (over the budget) when the growth cannot be charged.
    bool Append(const char* data, size_t n) {
      const size_t needed = text_.size() + n;
      if (needed > text_.capacity()) {
        // Grow geometrically, but charge the capacity before allocating it.
        const size_t capacity =
            std::max(needed, std::min<size_t>(text_.capacity() * 2, needed * 2));
        if (!Settle(capacity)) {
          over_budget_ = true;
          return false;
        }
        text_.reserve(capacity);
      }
      text_.append(data, n);
      return true;
    }

   private:
    bool Settle(size_t bytes) {
      if (budget_ == nullptr) return true;
      if (bytes > charged_) {
        if (!budget_->TryCharge(bytes - charged_)) return false;
      } else {
        budget_->Release(charged_ - bytes);
      }
      charged_ = bytes;
      return true;
    }

    std::string text_;
    node::MemoryBudget* budget_ = nullptr;
    size_t charged_ = 0;
    bool over_budget_ = false;
  };

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        if (!body_.Append(static_cast<const char*>(b.data()), b.size())) {
          ec = boost::beast::http::error::body_limit;
          return n;
        }
        n += b.size();
      }
      ec = {};
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace sockudo::dataplane::ws
