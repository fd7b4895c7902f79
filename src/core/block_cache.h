// Large host blocks kept mapped between uses. Fresh memory costs a page fault per 4 KiB
// page at its first touch, and glibc hands large blocks back to the kernel when they are
// freed, so a loop of same-shaped calls pays those faults on every call: on this
// project's VM about 2 us a page, 0.3 ms of a 0.55 ms FCN layer whose result is 688 KB.
// The R results of 128 KiB to 4 MiB (src/result_memory.cpp, through R's custom
// allocators) take their blocks from here instead: a freed block waits, mapped, for the
// next request of about its size, within a limit on the idle bytes (the oldest go first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace deconv {

class BlockCache {
 public:
  // What the package takes from here: blocks of [kMinBytes, kMaxBytes). Smaller ones
  // malloc reuses without faults. Larger ones R frees too seldom for a bounded cache to
  // hold them (a loop of 16.8 MB results had 30 dead between collections, and the
  // misses, fresh memory with huge pages advised, took 47 ms a call instead of 9), so
  // they stay with malloc, which keeps its heap.
  static constexpr size_t kMinBytes = size_t(128) << 10;
  static constexpr size_t kMaxBytes = size_t(4) << 20;
  static constexpr size_t kDefaultIdleLimit = size_t(256) << 20;

  explicit BlockCache(size_t idle_limit = kDefaultIdleLimit) : limit_(idle_limit) {}
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of at least `bytes` (64-byte aligned, a multiple of 64 KiB), uninitialized;
  // `*size` gets the size to release it with. An idle block is reused when its size is
  // within a quarter above the request. Null when memory ran out.
  void* acquire(size_t bytes, size_t* size);
  // Takes back a block from acquire(): kept idle if it fits the limit, else freed.
  // Safe to call from R's garbage collector (no exceptions, no R).
  void release(void* p, size_t size) noexcept;
  // Changes the limit on idle bytes, freeing the oldest idle blocks beyond it.
  void set_idle_limit(size_t bytes);

  struct Stats {
    int64_t hits = 0, misses = 0, idle_blocks = 0;
    size_t idle_bytes = 0, idle_limit = 0;
  };
  Stats stats() const;

 private:
  struct Block {
    void* p;
    size_t size;
  };
  void trim_locked(size_t limit) noexcept;

  mutable std::mutex mutex_;
  std::vector<Block> idle_;  // oldest first
  size_t idle_bytes_ = 0;
  size_t limit_;
  int64_t hits_ = 0, misses_ = 0;
};

// The process's cache, for the R results.
BlockCache& host_blocks();

}  // namespace deconv
