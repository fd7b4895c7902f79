// The host block cache (core/block_cache.h): reuse of a freed block by a request of about
// its size, the limit on idle bytes (oldest first, oversized blocks never kept), sizes
// and alignment.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "core/block_cache.h"

namespace {

using deconv::BlockCache;

constexpr size_t kMiB = size_t(1) << 20;

TEST(BlockCache, ReusesAFreedBlockOfAboutTheSameSize) {
  BlockCache cache(64 * kMiB);
  size_t s1 = 0, s2 = 0, s3 = 0;
  void* a = cache.acquire(700000, &s1);
  ASSERT_NE(a, nullptr);
  EXPECT_GE(s1, 700000u);
  std::memset(a, 1, s1);  // the whole block is usable
  cache.release(a, s1);
  EXPECT_EQ(cache.stats().idle_bytes, s1);
  // A slightly smaller request takes the same block; the cache is then empty.
  void* b = cache.acquire(690000, &s2);
  EXPECT_EQ(b, a);
  EXPECT_EQ(s2, s1);
  EXPECT_EQ(cache.stats().idle_blocks, 0);
  EXPECT_EQ(cache.stats().hits, 1);
  // A request needing a much smaller block does not take a big one.
  cache.release(b, s2);
  void* c = cache.acquire(200000, &s3);
  EXPECT_NE(c, b);
  EXPECT_EQ(cache.stats().misses, 2);
  cache.release(c, s3);
  EXPECT_EQ(cache.stats().idle_blocks, 2);
}

TEST(BlockCache, AlignsAndRoundsSizes) {
  BlockCache cache;
  size_t small = 0, big = 0;
  void* a = cache.acquire(BlockCache::kMinBytes + 1, &small);
  void* b = cache.acquire(5 * kMiB + 3, &big);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  EXPECT_EQ(small % (64 << 10), 0u);
  // Large ones in the same 64 KiB steps.
  EXPECT_EQ(big, 5 * kMiB + (64 << 10));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 64, 0u);
  cache.release(a, small);
  cache.release(b, big);
}

TEST(BlockCache, KeepsIdleBytesWithinTheLimitOldestFirst) {
  BlockCache cache(3 * kMiB);
  size_t s[4];
  void* p[4];
  for (int i = 0; i < 4; ++i) p[i] = cache.acquire(kMiB, &s[i]);
  for (int i = 0; i < 4; ++i) cache.release(p[i], s[i]);
  EXPECT_EQ(cache.stats().idle_blocks, 3);
  EXPECT_LE(cache.stats().idle_bytes, 3 * kMiB);
  // The newest (p[3]) is kept: the next request takes the most recent fitting block.
  size_t got = 0;
  void* again = cache.acquire(kMiB, &got);
  EXPECT_TRUE(again == p[1] || again == p[2] || again == p[3]);
  EXPECT_NE(again, p[0]);
  cache.release(again, got);
  // A block larger than the limit is freed at once.
  void* huge = cache.acquire(8 * kMiB, &got);
  cache.release(huge, got);
  EXPECT_LE(cache.stats().idle_bytes, 3 * kMiB);
  // Lowering the limit frees the idle blocks beyond it; 0 keeps none.
  cache.set_idle_limit(kMiB);
  EXPECT_LE(cache.stats().idle_bytes, kMiB);
  cache.set_idle_limit(0);
  EXPECT_EQ(cache.stats().idle_blocks, 0);
  void* q = cache.acquire(kMiB, &got);
  cache.release(q, got);
  EXPECT_EQ(cache.stats().idle_bytes, 0u);
}

}  // namespace
