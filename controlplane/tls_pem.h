// File: tls_pem.h
// The control plane listeners' certificate chain and private key, PEM (control_plane.tls).
#pragma once

#include <string>

namespace sockudo::controlplane {

struct TlsPem {
  std::string cert_chain;
  std::string private_key;
};

}  // namespace sockudo::controlplane
