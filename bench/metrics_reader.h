// File: metrics_reader.h
// Reads one value from a server's Prometheus endpoint with a blocking GET (its own io_context),
// for scenarios that wait on what the server reports about itself, e.g. its queue depth.
#pragma once

#include <optional>
#include <string>

#include "bench/ws_client.h"

namespace sockudo::bench {

// The sum of every sample of `name` (any labels) at http://endpoint/metrics; nullopt when the
// endpoint cannot be read or has no such metric.
std::optional<double> ReadMetric(const Endpoint& endpoint, const std::string& name);

}  // namespace sockudo::bench
