// File: proc_stats.h
// CPU time and resident memory of processes, read from /proc, so servers with different thread
// counts are compared by CPU per unit of work. Also this process's own CPU (the load generator
// must not be the bottleneck).
#pragma once

#include <sys/types.h>

#include <vector>

namespace sockudo::bench {

struct ProcSample {
  double cpu_seconds = 0;  // user + system, all threads
  long rss_kb = 0;
};

// Sum over `pids` (missing processes count as zero).
ProcSample SampleProcesses(const std::vector<pid_t>& pids);
double SelfCpuSeconds();
// Raises the open-file soft limit to the hard limit; returns the new soft limit.
long RaiseFileLimit();

}  // namespace sockudo::bench
