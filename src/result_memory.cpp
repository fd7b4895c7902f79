// Large R results from the host block cache (see result_memory.h).
#include "result_memory.h"

#include <R_ext/Rallocators.h>

#include <cmath>
#include <cstring>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define DECONV_CAN_PIN_LIBRARY 1
#endif

#include "convert.h"
#include "core/block_cache.h"
#include "core/error.h"
#include "r_boundary.h"

namespace deconv {
namespace r {

namespace {

// Bytes before the memory R gets: the block's size, for the free (64 keeps alignment).
constexpr size_t kHeader = 64;

void* cache_alloc(R_allocator_t*, size_t bytes) {
  size_t size = 0;
  char* block = static_cast<char*>(host_blocks().acquire(bytes + kHeader, &size));
  if (!block) return nullptr;  // R then reports that it cannot allocate
  std::memcpy(block, &size, sizeof size);
  return block + kHeader;
}

void cache_free(R_allocator_t*, void* mem) {
  char* block = static_cast<char*>(mem) - kHeader;
  size_t size;
  std::memcpy(&size, block, sizeof size);
  host_blocks().release(block, size);
}

// R keeps a pointer to cache_free in each such vector and calls it when the vector is
// collected, possibly after the package was unloaded (unloadNamespace, pkgload): so the
// library is marked never to be unmapped, once, before the first such vector.
bool library_pinned() {
#ifdef DECONV_CAN_PIN_LIBRARY
  static const bool pinned = [] {
    Dl_info info;
    if (!dladdr(reinterpret_cast<void*>(&cache_free), &info) || !info.dli_fname) return false;
    return dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
  }();
  return pinned;
#else
  return false;
#endif
}

// options(deconv.cache.mb) as bytes: unset is 0 (no cache), else one number from 0.
size_t cache_limit_option() {
  static SEXP option = Rf_install("deconv.cache.mb");
  SEXP x = Rf_GetOption1(option);
  // Off unless asked for: in the benchmark's loops R collected results too seldom for
  // the cache to pay (fcn2 float32 1.2 -> 2.3 ms), though plain loops gain 2x.
  if (Rf_isNull(x)) return 0;
  double mb;
  const std::string expected = "expected one number of MiB from 0 (0 keeps no freed results)";
  if (!thread_value(x, &mb) || std::isnan(mb) || mb < 0)
    throw ParamError("deconv.cache.mb", expected + ", got " + describe(x));
  // Beyond any machine's memory: no limit.
  if (mb >= 1e12) return SIZE_MAX;
  return static_cast<size_t>(mb * 1048576.0);
}

}  // namespace

R_allocator_t* result_allocator(double bytes) {
  static R_allocator_t allocator = {cache_alloc, cache_free, nullptr, nullptr};
  if (bytes < static_cast<double>(BlockCache::kMinBytes) ||
      bytes >= static_cast<double>(BlockCache::kMaxBytes))
    return nullptr;
  const size_t limit = cache_limit_option();
  host_blocks().set_idle_limit(limit);
  if (limit == 0 || !library_pinned()) return nullptr;
  return &allocator;
}

}  // namespace r
}  // namespace deconv

using namespace deconv;

// The block cache's counters (tests): hits, misses, idle blocks and bytes, the limit.
extern "C" SEXP C_result_cache_stats() {
  return r::entry([&]() -> SEXP {
    const BlockCache::Stats s = host_blocks().stats();
    return r::named_list({{"hits", r::scalar_real(static_cast<double>(s.hits))},
                          {"misses", r::scalar_real(static_cast<double>(s.misses))},
                          {"idle_blocks", r::scalar_real(static_cast<double>(s.idle_blocks))},
                          {"idle_bytes", r::scalar_real(static_cast<double>(s.idle_bytes))},
                          {"idle_limit", r::scalar_real(static_cast<double>(s.idle_limit))}});
  });
}
