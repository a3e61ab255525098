// File: rest_server.h
// The REST listener: Boost.Beast HTTP/1.1 on its own port (HTTPS when given a certificate), one
// io_context thread, keep-alive, a body limit and a read timeout per request (the TLS handshake
// included); every request goes to the RestRouter. Beast stays
// inside rest_server.cc (pimpl) to keep it out of other translation units.
// Start()/Stop() from one thread (the owner's).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controlplane/rest/rest_router.h"
#include "controlplane/tls_pem.h"

namespace sockudo::controlplane::rest {

class RestServer {
 public:
  explicit RestServer(const RestRouter* router);
  ~RestServer();

  // Binds host:port (port 0 picks one), starts the thread; returns the bound port. With `tls`
  // (PEM chain and key, TLS 1.2+) every connection is HTTPS; a bad certificate or key is an error.
  absl::StatusOr<int> Start(const std::string& host, int port, const TlsPem* tls = nullptr);
  // Closes the listener and every connection, joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockudo::controlplane::rest
