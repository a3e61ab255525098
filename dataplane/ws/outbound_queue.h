// File: outbound_queue.h
// The frames waiting to leave one WebSocket, and the batch on its way. Keeps the per-socket bound
// on Pusher messages (websocket.max_messages / max_bytes: a push past it is refused, and the caller
// closes the slow consumer) and keeps everything else bounded too:
//   - pongs answering client pings are coalesced: one waits at most, replaced by a newer one
//     (RFC 6455 §5.5.3), so a client that pings and never reads costs a constant amount;
//   - the frames of a close (the pusher:error and the close frame) are admitted over the bound,
//     once per session;
//   - a batch handed to the socket holds at most max_batch_bytes (and max_batch_frames), so
//     after DropQueuedMessages() the close of a slow consumer waits behind that much at most.
// Pure bookkeeping, no I/O; used on the session's worker thread only.
//
//   if (!queue.PushMessage(frame)) CloseSlowConsumer();
//   if (!queue.writing() && queue.has_pending()) Send(queue.StartBatch());
//   ... on completion: bool closed = queue.FinishBatch();
#pragma once

#include <cstddef>
#include <vector>

#include "common/protocol/shared_frame.h"

namespace sockudo::dataplane::ws {

class OutboundQueue {
 public:
  struct Limits {
    size_t max_messages = 1000;
    size_t max_bytes = SIZE_MAX;
    size_t max_batch_bytes = 256 * 1024;
    size_t max_batch_frames = 1024;  // IOV_MAX on Linux
  };

  explicit OutboundQueue(Limits limits) : limits_(limits) {}

  // A Pusher message, counted against max_messages / max_bytes. False, queuing nothing, when it
  // does not fit.
  bool PushMessage(protocol::SharedFrame frame);
  // A frame outside the bound: the 101 response, the frames of a close.
  void PushControl(protocol::SharedFrame frame);
  // The pong for a client ping. Replaces the pong that is still waiting, if any.
  void PushPong(protocol::SharedFrame frame);
  // Forgets the queued Pusher messages that are not part of the batch on its way.
  void DropQueuedMessages();

  bool has_pending() const { return head_ < pending_.size() || pong_ != nullptr; }
  bool writing() const { return writing_; }
  // Moves the next batch (the waiting pong first) to the in-flight list and returns it.
  const std::vector<protocol::SharedFrame>& StartBatch();
  // The in-flight batch has left (or failed). True when it held a close frame.
  bool FinishBatch();

  size_t queued_messages() const { return messages_; }
  size_t queued_bytes() const { return bytes_; }

 private:
  struct Entry {
    protocol::SharedFrame frame;
    bool counted;  // a Pusher message under the bound
  };

  Limits limits_;
  // Waiting frames are pending_[head_..]; a vector (not a deque, which allocates even when
  // empty) compacted as the head advances, so an idle socket holds no queue memory.
  std::vector<Entry> pending_;
  size_t head_ = 0;
  protocol::SharedFrame pong_;  // the one waiting pong
  std::vector<protocol::SharedFrame> inflight_;
  size_t inflight_counted_ = 0;  // Pusher messages of the in-flight batch
  size_t inflight_counted_bytes_ = 0;
  size_t messages_ = 0;  // Pusher messages queued or in flight
  size_t bytes_ = 0;     // and their payload bytes
  bool writing_ = false;
};

}  // namespace sockudo::dataplane::ws
