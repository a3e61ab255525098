// File: guarded.h
// Runs user code (a Completion, a Listener call, a CountNodes callback) for a bus driver: an
// exception stops there and is logged as a bug, so it never unwinds through a connection's read
// loop or the driver's io_context.
//
//   Guarded(*log, "Listener::OnMessage", [&] { listener->OnMessage(std::move(message)); });
//   Complete(*log, done, absl::OkStatus());
#pragma once

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "common/bus/transport.h"
#include "spdlog/spdlog.h"

namespace sockudo::bus::redis {

template <typename Fn>
void Guarded(spdlog::logger& log, const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    log.error("BUG: exception escaped {}: {}", what, e.what());
  } catch (...) {
    log.error("BUG: unknown exception escaped {}", what);
  }
}

// Runs `done` (when set) with `status`.
inline void Complete(spdlog::logger& log, const Completion& done, absl::Status status) {
  if (done) Guarded(log, "a publish completion", [&] { done(std::move(status)); });
}

}  // namespace sockudo::bus::redis
