// File: process_memory.h
// The resident memory of this process (Linux /proc/self/statm), for heartbeats and metrics.
#pragma once

#include <cstdint>

namespace sockudo::base {

// Resident set size in bytes, or 0 when /proc cannot be read.
int64_t ResidentMemoryBytes();

}  // namespace sockudo::base
