#include "dataplane/connection/handle.h"

#include "dataplane/connection/connection.h"

namespace sockudo::dataplane::connection {

void Handle::Resume(std::function<void(Connection&)> fn) const {
  node::WorkerState* current = node::CurrentWorker();
  if (current != nullptr && current->id == worker_) {
    if (Connection* c = current->Find(serial_); c != nullptr && !c->closed()) fn(*c);
    return;
  }
  Post(std::move(fn));
}

void Handle::Post(std::function<void(Connection&)> fn) const {
  if (pool_ == nullptr) return;
  pool_->Post(worker_, [serial = serial_, fn = std::move(fn)](node::WorkerState& w) {
    if (Connection* c = w.Find(serial); c != nullptr && !c->closed()) fn(*c);
  });
}

}  // namespace sockudo::dataplane::connection
