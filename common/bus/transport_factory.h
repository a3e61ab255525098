// File: transport_factory.h
// Builds the bus driver that config.adapter.driver names. An unknown driver or a setting the driver
// cannot honour is an error: never a silent fallback to `local`.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/bus/local/local_hub.h"
#include "common/bus/transport.h"
#include "common/config/config.h"

namespace sockudo::bus {

struct TransportDeps {
  // The process's in-process bus, for the `local` driver.
  local::LocalHub* hub = nullptr;
  // Called (on the driver's thread) when the bus is lost for good, e.g. NATS reconnects
  // exhausted: the process should log it and exit non-zero so that its orchestrator restarts it.
  std::function<void(absl::Status)> fatal;
};

absl::StatusOr<std::unique_ptr<Transport>> MakeTransport(const config::Config& config,
                                                         const TransportDeps& deps);

}  // namespace sockudo::bus
