// File: connection.h
// Where sockudoctl connects and how: the control plane's gRPC address, the bearer token sent as
// "authorization: Bearer <token>" metadata, TLS with optional CA roots, and the deadline of each
// unary call. A Connection owns one gRPC channel; it prepares every ClientContext and turns a
// failed call into the printed error and exit code of rpc_status.h. Used from the main thread;
// `cluster watch` cancels its stream from a signal thread through the ClientContext only.
//
//   auto connection = client::Connection::Open(target);
//   v1::Apps::Stub stub(connection->channel());
//   grpc::ClientContext context;
//   connection->Prepare(&context);
//   grpc::Status status = stub.GetApp(&context, request, &app);
//   if (!status.ok()) return connection->Fail(status);
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace sockudo::cli::client {

inline constexpr const char* kDefaultServer = "127.0.0.1:50051";

struct Target {
  std::string address = kDefaultServer;  // host:port
  std::string token;                     // empty: no authorization metadata
  bool tls = false;
  std::string ca_file;  // PEM roots; empty = the system's
  std::chrono::milliseconds timeout{10000};
  // Where the address came from, for error messages: "--server", "SOCKUDO_SERVER",
  // "context \"prod\"" or "default".
  std::string address_source = "default";
};

class Connection {
 public:
  // Builds the channel (no I/O yet). Fails only on an unreadable CA file.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(Target target);

  const Target& target() const { return target_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Adds the token and, for unary calls, the deadline.
  void Prepare(grpc::ClientContext* context, bool unary = true) const;

  // Prints what went wrong on stderr and returns the exit code (rpc_status.h): 3 when the server
  // could not be reached (naming the address), 1 when it answered with an error.
  int Fail(const grpc::Status& status) const;
  // True when `status` means the call never reached a server.
  bool Unreachable(const grpc::Status& status) const;

 private:
  Connection(Target target, std::shared_ptr<grpc::Channel> channel)
      : target_(std::move(target)), channel_(std::move(channel)) {}

  Target target_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace sockudo::cli::client
