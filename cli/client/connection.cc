#include "cli/client/connection.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/client/rpc_status.h"

namespace sockudo::cli::client {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(Target target) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (target.tls) {
    grpc::SslCredentialsOptions options;
    if (!target.ca_file.empty()) {
      std::ifstream in(target.ca_file);
      if (!in)
        return absl::InvalidArgumentError(absl::StrCat("--ca-file: cannot read ", target.ca_file));
      std::stringstream pem;
      pem << in.rdbuf();
      options.pem_root_certs = pem.str();
    }
    credentials = grpc::SslCredentials(options);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(absl::StrCat("sockudoctl/", SOCKUDO_VERSION));
  auto channel = grpc::CreateCustomChannel(target.address, credentials, args);
  return std::unique_ptr<Connection>(new Connection(std::move(target), std::move(channel)));
}

void Connection::Prepare(grpc::ClientContext* context, bool unary) const {
  if (!target_.token.empty()) context->AddMetadata("authorization", "Bearer " + target_.token);
  if (unary) context->set_deadline(std::chrono::system_clock::now() + target_.timeout);
}

bool Connection::Unreachable(const grpc::Status& status) const {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return false;
  }
  // A server that answered UNAVAILABLE (or was too slow) leaves the channel connected; a call that
  // never got through leaves it connecting or failed.
  return channel_->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
}

int Connection::Fail(const grpc::Status& status) const {
  const std::string code = StatusCodeName(status.error_code());
  if (Unreachable(status)) {
    std::cerr << "Error: cannot reach the control plane at " << target_.address << " (address from "
              << target_.address_source << "): " << code << ": " << status.error_message() << "\n";
    const std::string& message = status.error_message();
    if (!target_.tls && message.find("Socket closed") != std::string::npos) {
      std::cerr << "Hint: does the server expect TLS (--tls)?\n";
    } else if (target_.tls && message.find("certificate verify failed") != std::string::npos) {
      std::cerr << "Hint: the server's certificate is not signed by a CA this client trusts "
                   "(--ca-file)\n";
    } else if (target_.tls && message.find("handshake") != std::string::npos) {
      std::cerr << "Hint: does the server speak TLS? (--tls=false for plain text)\n";
    }
    return kExitUnreachable;
  }
  std::string message = status.error_message();
  if (message.empty()) {
    message = status.error_code() == grpc::StatusCode::UNIMPLEMENTED
                  ? "this control plane does not implement the call (an older version?)"
                  : "(no message)";
  }
  std::cerr << "Error from server (" << code << "): " << message << "\n";
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    std::cerr << "Hint: give the control plane's token with --token, SOCKUDO_TOKEN or a context "
                 "(sockudoctl config set-context --help)\n";
  }
  return kExitServerError;
}

}  // namespace sockudo::cli::client
