#include "controlplane/grpc/cluster_grpc_service.h"

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "controlplane/grpc/call.h"

namespace sockudo::controlplane::grpc_api {
namespace {

// The stream of one WatchCluster call. The observer's callback holds only `Queue` (shared), so
// a change arriving after the call ended finds `reactor == nullptr` and is dropped.
class WatchReactor final : public ::grpc::ServerWriteReactor<v1::ClusterEvent> {
 public:
  WatchReactor(service::ClusterService* service, audit::Call call)
      : service_(service), call_(std::move(call)), queue_(std::make_shared<Queue>()) {
    queue_->reactor = this;
    std::vector<v1::ClusterEvent> snapshot;
    watch_id_ = service_->Watch(
        [queue = queue_](v1::ClusterEvent event) { queue->Push(std::move(event)); }, &snapshot);
    audit::Record(call_, absl::OkStatus());
    std::lock_guard lock(queue_->mu);
    for (auto& event : snapshot) queue_->pending.push_back(std::move(event));
    queue_->WriteNextLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(queue_->mu);
    queue_->writing = false;
    if (!ok) return;  // the call is over; OnDone follows
    queue_->WriteNextLocked();
  }

  void OnCancel() override {
    service_->Unwatch(watch_id_);
    std::lock_guard lock(queue_->mu);
    if (!queue_->finished) {
      queue_->finished = true;
      Finish(::grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    service_->Unwatch(watch_id_);
    {
      std::lock_guard lock(queue_->mu);
      queue_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct Queue {
    std::mutex mu;
    WatchReactor* reactor = nullptr;  // null once the call is done
    std::deque<v1::ClusterEvent> pending;
    v1::ClusterEvent in_flight;
    bool writing = false;
    bool finished = false;

    void Push(v1::ClusterEvent event) {
      std::lock_guard lock(mu);
      if (reactor == nullptr || finished) return;
      pending.push_back(std::move(event));
      WriteNextLocked();
    }
    void WriteNextLocked() {
      if (writing || finished || reactor == nullptr || pending.empty()) return;
      in_flight = std::move(pending.front());
      pending.pop_front();
      writing = true;
      reactor->StartWrite(&in_flight);
    }
  };

  service::ClusterService* service_;
  audit::Call call_;
  std::shared_ptr<Queue> queue_;
  uint64_t watch_id_ = 0;
};

class RefusedWatch final : public ::grpc::ServerWriteReactor<v1::ClusterEvent> {
 public:
  explicit RefusedWatch(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

::grpc::ServerUnaryReactor* ClusterGrpcService::ListNodes(::grpc::CallbackServerContext* context,
                                                          const v1::ListNodesRequest* request,
                                                          v1::ListNodesResponse* response) {
  return Unary(context, *auth_, "ListNodes", "nodes", response,
               [&] { return service_->ListNodes(*request); });
}

::grpc::ServerUnaryReactor* ClusterGrpcService::GetNode(::grpc::CallbackServerContext* context,
                                                        const v1::GetNodeRequest* request,
                                                        v1::Node* response) {
  return Unary(context, *auth_, "GetNode", request->name(), response,
               [&] { return service_->GetNode(*request); });
}

::grpc::ServerUnaryReactor* ClusterGrpcService::GetClusterHealth(
    ::grpc::CallbackServerContext* context, const v1::GetClusterHealthRequest* request,
    v1::ClusterHealth* response) {
  return Unary(context, *auth_, "GetClusterHealth", "cluster", response,
               [&] { return service_->GetClusterHealth(*request); });
}

::grpc::ServerWriteReactor<v1::ClusterEvent>* ClusterGrpcService::WatchCluster(
    ::grpc::CallbackServerContext* context, const v1::WatchClusterRequest*) {
  audit::Call call{"grpc", context->peer(), "anonymous", "WatchCluster", "cluster"};
  absl::Status status = Authenticate(*context, *auth_, &call);
  if (!status.ok()) {
    audit::Record(call, status);
    return new RefusedWatch(status);
  }
  return new WatchReactor(service_, std::move(call));
}

}  // namespace sockudo::controlplane::grpc_api
