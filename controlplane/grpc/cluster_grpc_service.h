// File: cluster_grpc_service.h
// The Cluster gRPC service: ListNodes, GetNode and GetClusterHealth as grpc/call.h Unary calls
// over the ClusterService, and WatchCluster as a server-streaming reactor that writes the
// SNAPSHOT events, then every change of the bus observer's view until the client cancels or the
// server shuts down. One write is in flight at a time; changes queue behind it.
#pragma once

#include "controlplane/auth/token_authenticator.h"
#include "controlplane/service/cluster_service.h"
#include "sockudo/controlplane/v1/cluster.grpc.pb.h"

namespace sockudo::controlplane::grpc_api {

class ClusterGrpcService final : public v1::Cluster::CallbackService {
 public:
  ClusterGrpcService(service::ClusterService* service, const auth::TokenAuthenticator* auth)
      : service_(service), auth_(auth) {}

  ::grpc::ServerUnaryReactor* ListNodes(::grpc::CallbackServerContext* context,
                                        const v1::ListNodesRequest* request,
                                        v1::ListNodesResponse* response) override;
  ::grpc::ServerUnaryReactor* GetNode(::grpc::CallbackServerContext* context,
                                      const v1::GetNodeRequest* request,
                                      v1::Node* response) override;
  ::grpc::ServerUnaryReactor* GetClusterHealth(::grpc::CallbackServerContext* context,
                                               const v1::GetClusterHealthRequest* request,
                                               v1::ClusterHealth* response) override;
  ::grpc::ServerWriteReactor<v1::ClusterEvent>* WatchCluster(
      ::grpc::CallbackServerContext* context, const v1::WatchClusterRequest* request) override;

 private:
  service::ClusterService* service_;
  const auth::TokenAuthenticator* auth_;
};

}  // namespace sockudo::controlplane::grpc_api
