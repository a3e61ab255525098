// File: allocator.h
// How the process asks glibc's malloc to give memory back. By default glibc raises its mmap
// threshold after a large block is freed (up to 32 MiB), so the next large buffers come from the
// heap and stay there after they are freed: a burst of big messages would leave the node's RSS
// high for good. TuneAllocator() pins the threshold; ReleaseFreeMemory() returns free pages inside
// the heaps (malloc_trim), for a periodic call once a burst is over.
#pragma once

#include <cstddef>

namespace sockudo::base {

// Call once at startup, before threads start.
void TuneAllocator();

// Returns free heap pages to the kernel. Takes each arena's lock briefly; call it from a timer,
// not from a hot path.
void ReleaseFreeMemory();

}  // namespace sockudo::base
