// SmallVector (core/small_vector.h), the type of tuples and shapes: inline up to its
// capacity and on the heap beyond, through copies, moves, growth, insert and erase.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/small_vector.h"

namespace {

using V = deconv::SmallVector<int64_t, 3>;

std::vector<int64_t> as_vector(const V& v) { return std::vector<int64_t>(v.begin(), v.end()); }

TEST(SmallVector, GrowsFromInlineToTheHeapKeepingItsValues) {
  V v;
  EXPECT_TRUE(v.empty());
  for (int64_t i = 0; i < 10; ++i) {
    v.push_back(i * i);
    ASSERT_EQ(v.size(), static_cast<size_t>(i + 1));
  }
  EXPECT_GE(v.capacity(), 10u);
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(v[i], i * i);
  // push_back of one of its own values while it grows
  V w{1, 2, 3};
  w.push_back(w[0]);
  EXPECT_EQ(as_vector(w), (std::vector<int64_t>{1, 2, 3, 1}));
}

TEST(SmallVector, CopiesAndMovesInlineAndHeapVectors) {
  for (size_t n : {2u, 7u}) {
    V a;
    for (size_t i = 0; i < n; ++i) a.push_back(static_cast<int64_t>(i) + 1);
    V b = a;
    EXPECT_EQ(b, a);
    b[0] = 99;  // a copy, not a view
    EXPECT_EQ(a[0], 1);
    V c = std::move(b);
    EXPECT_EQ(c[0], 99);
    EXPECT_EQ(c.size(), n);
    EXPECT_TRUE(b.empty());  // NOLINT: moved-from is empty and usable
    b.push_back(5);
    EXPECT_EQ(b.size(), 1u);
    V d{4};
    d = a;
    EXPECT_EQ(d, a);
    d = std::move(c);
    EXPECT_EQ(d[0], 99);
    const V& same = d;
    d = same;  // self-assignment keeps it
    EXPECT_EQ(d.size(), n);
  }
}

TEST(SmallVector, AssignResizeInsertEraseCompare) {
  V v(4, 7);
  EXPECT_EQ(as_vector(v), (std::vector<int64_t>{7, 7, 7, 7}));
  v.resize(2);
  v.resize(3, 1);
  EXPECT_EQ(as_vector(v), (std::vector<int64_t>{7, 7, 1}));
  v.insert(v.begin(), 0);
  v.insert(v.begin() + 2, 5);
  EXPECT_EQ(as_vector(v), (std::vector<int64_t>{0, 7, 5, 7, 1}));
  const int64_t more[] = {8, 9};
  v.insert(v.end(), more, more + 2);
  v.erase(v.begin() + 1, v.begin() + 3);
  EXPECT_EQ(as_vector(v), (std::vector<int64_t>{0, 7, 1, 8, 9}));
  v.erase(v.begin());
  EXPECT_EQ(v.front(), 7);
  EXPECT_EQ(v.back(), 9);
  EXPECT_EQ(v.at(3), 9);
  EXPECT_THROW(v.at(4), std::out_of_range);
  EXPECT_EQ(std::vector<int64_t>(v.rbegin(), v.rend()), (std::vector<int64_t>{9, 8, 1, 7}));
  EXPECT_NE(v, (V{7, 1, 8}));
  EXPECT_TRUE((V{1, 2}) < (V{1, 3}));
  v.clear();
  EXPECT_TRUE(v.empty());
  const V empty;
  EXPECT_EQ(empty, V{});
}

}  // namespace
