// File: call.h
// One unary gRPC call on the callback API, the same way for every service: check the bearer
// token (Authorization metadata), run the service, write the audit line, finish the default
// reactor. Sync services answer inside the call; async ones (the cluster-wide calls) answer
// later from the bus observer's thread, which gRPC allows. An exception never leaves a
// callback: it becomes INTERNAL.
//
//   return Unary(context, *auth_, "GetApp", request->name(), response,
//                [&] { return service_->GetApp(*request); });
//   return UnaryAsync(context, *auth_, "CountUserConnections", request->name(), response,
//                     [&](auto done) { users_->CountUserConnections(*request, std::move(done)); });
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/grpc/status_convert.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace sockudo::controlplane::grpc_api {

inline std::string AuthorizationOf(const ::grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Authenticates the call; on success `call->principal` names who.
inline absl::Status Authenticate(const ::grpc::CallbackServerContext& context,
                                 const auth::TokenAuthenticator& auth, audit::Call* call) {
  absl::Status status = auth.Check(AuthorizationOf(context));
  if (status.ok() && auth.enabled()) call->principal = "token";
  return status;
}

template <typename Response, typename Fn>
::grpc::ServerUnaryReactor* Unary(::grpc::CallbackServerContext* context,
                                  const auth::TokenAuthenticator& auth, const char* method,
                                  std::string resource, Response* response, Fn&& fn) {
  auto* reactor = context->DefaultReactor();
  audit::Call call{"grpc", context->peer(), "anonymous", method, std::move(resource)};
  absl::Status status = Authenticate(*context, auth, &call);
  if (status.ok()) {
    try {
      auto result = fn();
      if (result.ok()) {
        *response = *std::move(result);
      } else {
        status = result.status();
      }
    } catch (const std::exception& e) {
      status = absl::InternalError(e.what());
    }
  }
  audit::Record(call, status);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// `start(done)` starts the service call; `done(StatusOr<Response>)` runs once, on any thread.
template <typename Response, typename Start>
::grpc::ServerUnaryReactor* UnaryAsync(::grpc::CallbackServerContext* context,
                                       const auth::TokenAuthenticator& auth, const char* method,
                                       std::string resource, Response* response, Start&& start) {
  auto* reactor = context->DefaultReactor();
  audit::Call call{"grpc", context->peer(), "anonymous", method, std::move(resource)};
  absl::Status status = Authenticate(*context, auth, &call);
  if (!status.ok()) {
    audit::Record(call, status);
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  auto finish = [reactor, response, call](absl::StatusOr<Response> result) {
    absl::Status st = result.status();
    if (result.ok()) *response = *std::move(result);
    audit::Record(call, st);
    reactor->Finish(ToGrpcStatus(st));
  };
  try {
    start(std::function<void(absl::StatusOr<Response>)>(std::move(finish)));
  } catch (const std::exception& e) {
    // The service threw before taking the callback: nothing else finishes the call.
    absl::Status st = absl::InternalError(e.what());
    audit::Record(call, st);
    reactor->Finish(ToGrpcStatus(st));
  }
  return reactor;
}

}  // namespace sockudo::controlplane::grpc_api
