#include "dataplane/node/worker_state.h"

namespace sockudo::dataplane::node {

WorkerState*& CurrentWorker() {
  thread_local WorkerState* current = nullptr;
  return current;
}

}  // namespace sockudo::dataplane::node
