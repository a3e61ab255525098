// File: transport.h
// What a Connection needs from the socket under it (a WebSocket session over TCP, TLS or a Unix
// socket). Implemented in ws/; every call happens on the connection's worker thread.
#pragma once

#include <functional>
#include <string_view>

#include "common/protocol/frame.h"

namespace sockudo::dataplane::connection {

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues a text frame behind the ones already queued. Returns false, queuing nothing, when the
  // bounded outbound queue is full.
  virtual bool Write(const protocol::SharedFrame& frame) = 0;
  // Sends `farewell` (when not null; it is never refused by the queue bound), then a close frame
  // with `code` and `reason`, after the frames already queued; later writes are dropped. The TCP
  // connection is dropped if the peer does not answer within 5 s.
  virtual void Close(int code, std::string_view reason, protocol::SharedFrame farewell) = 0;
  // Forgets the queued frames that have not started to leave. A slow consumer being closed gets
  // its error and close frame right after the bytes already on their way, instead of behind a
  // full queue it would never read through in time.
  virtual void DiscardQueued() = 0;
};

}  // namespace sockudo::dataplane::connection
