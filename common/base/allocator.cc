#include "common/base/allocator.h"

#include <malloc.h>

namespace sockudo::base {

void TuneAllocator() {
  // Blocks of 128 KiB and more are mapped on their own and unmapped when freed; setting the
  // threshold explicitly also stops glibc from raising it.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  // free() gives back the top of the heap only past 64 MiB; the periodic ReleaseFreeMemory()
  // returns the rest without making every burst pay for brk() calls.
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

void ReleaseFreeMemory() { malloc_trim(0); }

}  // namespace sockudo::base
