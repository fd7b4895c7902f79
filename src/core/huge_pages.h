// Large buffers written once per call (the R result arrays, big temporaries) are fresh
// memory, so each 4 KiB page costs a page fault when first touched: for a 32 MB output,
// thousands of faults took longer than the computation (U-Net layer, measured). Asking
// Linux for transparent huge pages (when its setting is "madvise") cuts the faults 512x.
// A hint only: elsewhere, or when refused, nothing changes.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace deconv {

constexpr size_t kHugePageBytes = size_t(2) << 20;

// Advises huge pages for the whole 2 MB pages inside [p, p + bytes), if there are any.
inline void prefer_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < 2 * kHugePageBytes) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace deconv
