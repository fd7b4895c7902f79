// The cache of large host blocks (see block_cache.h).
#include "core/block_cache.h"

#include <cstdlib>

namespace deconv {

namespace {

// Sizes in 64 KiB steps, so that requests of nearly the same size share blocks. (No
// huge pages: the package takes blocks below 4 MiB, and fresh huge pages faulted slowly.)
constexpr size_t kStep = size_t(64) << 10;

size_t round_up(size_t v, size_t step) { return (v + step - 1) / step * step; }

}  // namespace

BlockCache::~BlockCache() { trim_locked(0); }

void* BlockCache::acquire(size_t bytes, size_t* size) {
  const size_t need = round_up(bytes ? bytes : 1, kStep);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // The smallest idle block that is large enough and not more than a quarter larger.
    size_t best = idle_.size();
    for (size_t i = 0; i < idle_.size(); ++i) {
      const size_t s = idle_[i].size;
      if (s >= need && s - need <= need / 4 && (best == idle_.size() || s < idle_[best].size))
        best = i;
    }
    if (best < idle_.size()) {
      const Block b = idle_[best];
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(best));
      idle_bytes_ -= b.size;
      ++hits_;
      *size = b.size;
      return b.p;
    }
    ++misses_;
  }
  if (need < bytes) return nullptr;  // the rounding overflowed
  void* p = std::aligned_alloc(64, need);
  if (!p) return nullptr;
  *size = need;
  return p;
}

void BlockCache::release(void* p, size_t size) noexcept {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (size > limit_) {
    std::free(p);
    return;
  }
  // Room for it first (the oldest idle blocks go), so the newest stays.
  trim_locked(limit_ - size);
  // push_back may throw bad_alloc: then the block is freed instead of kept.
  try {
    idle_.push_back({p, size});
    idle_bytes_ += size;
  } catch (...) {
    std::free(p);
  }
}

void BlockCache::set_idle_limit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  limit_ = bytes;
  trim_locked(bytes);
}

void BlockCache::trim_locked(size_t limit) noexcept {
  size_t drop = 0;
  while (drop < idle_.size() && idle_bytes_ > limit) {
    std::free(idle_[drop].p);
    idle_bytes_ -= idle_[drop].size;
    ++drop;
  }
  idle_.erase(idle_.begin(), idle_.begin() + static_cast<std::ptrdiff_t>(drop));
}

BlockCache::Stats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s;
  s.hits = hits_;
  s.misses = misses_;
  s.idle_blocks = static_cast<int64_t>(idle_.size());
  s.idle_bytes = idle_bytes_;
  s.idle_limit = limit_;
  return s;
}

BlockCache& host_blocks() {
  // Never destroyed: R may free results after static destructors of this library ran
  // (the library stays loaded; see src/result_memory.cpp). Keeps nothing until
  // options(deconv.cache.mb) sets its limit.
  static BlockCache* cache = new BlockCache(0);
  return *cache;
}

}  // namespace deconv
