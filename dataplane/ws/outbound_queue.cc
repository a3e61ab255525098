#include "dataplane/ws/outbound_queue.h"

#include "common/protocol/frame_codec.h"

namespace sockudo::dataplane::ws {

bool OutboundQueue::PushMessage(protocol::SharedFrame frame) {
  const size_t size = frame->size();
  if (messages_ >= limits_.max_messages || size > limits_.max_bytes - bytes_) return false;
  ++messages_;
  bytes_ += size;
  pending_.push_back({std::move(frame), true});
  return true;
}

void OutboundQueue::PushControl(protocol::SharedFrame frame) {
  pending_.push_back({std::move(frame), false});
}

void OutboundQueue::PushPong(protocol::SharedFrame frame) { pong_ = std::move(frame); }

void OutboundQueue::DropQueuedMessages() {
  size_t kept = 0;
  for (size_t i = head_; i < pending_.size(); ++i) {
    Entry& e = pending_[i];
    if (e.counted) {
      --messages_;
      bytes_ -= e.frame->size();
    } else {
      pending_[kept++] = std::move(e);
    }
  }
  pending_.resize(kept);
  head_ = 0;
}

const std::vector<protocol::SharedFrame>& OutboundQueue::StartBatch() {
  writing_ = true;
  inflight_.clear();
  inflight_counted_ = 0;
  inflight_counted_bytes_ = 0;
  size_t batch_bytes = 0;
  if (pong_ != nullptr) {
    batch_bytes += pong_->wire().size();
    inflight_.push_back(std::move(pong_));
    pong_ = nullptr;
  }
  while (head_ < pending_.size() && inflight_.size() < limits_.max_batch_frames &&
         (inflight_.empty() || batch_bytes < limits_.max_batch_bytes)) {
    Entry& e = pending_[head_++];
    batch_bytes += e.frame->wire().size();
    if (e.counted) {
      ++inflight_counted_;
      inflight_counted_bytes_ += e.frame->size();
    }
    inflight_.push_back(std::move(e.frame));
  }
  if (head_ == pending_.size()) {
    pending_.clear();
    head_ = 0;
    if (pending_.capacity() > 64) pending_.shrink_to_fit();
  } else if (head_ >= 64 && head_ * 2 >= pending_.size()) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
  return inflight_;
}

bool OutboundQueue::FinishBatch() {
  writing_ = false;
  messages_ -= inflight_counted_;
  bytes_ -= inflight_counted_bytes_;
  bool closed = false;
  for (const protocol::SharedFrame& f : inflight_) {
    closed = closed || f->opcode() == protocol::opcode::kClose;
  }
  inflight_.clear();
  if (inflight_.capacity() > 64) inflight_.shrink_to_fit();
  inflight_counted_ = 0;
  inflight_counted_bytes_ = 0;
  return closed;
}

}  // namespace sockudo::dataplane::ws
