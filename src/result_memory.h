// Memory for large R results from the host block cache (core/block_cache.h), through R's
// custom allocators (allocVector3): R frees such a vector into the cache, so the next
// call of the same shape writes into pages already mapped.
#pragma once

#include <Rinternals.h>

#include <cstddef>

namespace deconv {
namespace r {

// The allocator for a result vector of `bytes`, or null where R's own is used: outside
// [BlockCache::kMinBytes, kMaxBytes), with options(deconv.cache.mb = 0), or where this library cannot
// be kept loaded (R would call a freed function at its next garbage collection).
// Reads deconv.cache.mb (the cache's idle limit in MiB, 0 if unset; ParamError when it
// is not one number from 0) for the requests it serves.
R_allocator_t* result_allocator(double bytes);

}  // namespace r
}  // namespace deconv
