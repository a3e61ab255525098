// File: event_stream.h
// A REST answer that stays open: server-sent events (text/event-stream), as GET
// /v1/cluster:watch streams WatchCluster. The route makes it; the HTTP session opens it with a
// sink once the headers are out and closes it once when the client leaves (or the server stops).
//
//   stream->open([](std::string event_text) { ...; return client_still_there; });
//   ...
//   stream->close();
#pragma once

#include <functional>
#include <string>

namespace sockudo::controlplane::rest {

struct EventStream {
  // Takes one event's text (the `data:` payload, one line); thread-safe; false once the client
  // is gone, so the producer may stop early.
  using Sink = std::function<bool(std::string)>;
  std::function<void(Sink)> open;
  std::function<void()> close;
};

}  // namespace sockudo::controlplane::rest
