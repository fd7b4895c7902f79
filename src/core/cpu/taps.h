// The index geometry shared by col2im (forward) and im2col (backward): for a tile of
// input positions, every kernel tap that lands inside the output, as runs along w.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/shape.h"

namespace deconv {
namespace cpu {

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// For every index of one dimension (out of `begin.size() - 1`), the (tap, index) pairs
// that meet it: pairs[begin[i]] .. pairs[begin[i + 1] - 1]. The phase kernels list the
// depth and height taps of each row this way.
struct IndexTaps {
  std::vector<int64_t> begin;
  std::vector<std::pair<int64_t, int64_t>> pairs;
};

// Calls fn(tap, s_local, o_begin, count) for each run: input positions s_local .. +count
// (relative to s0, step 1) of the flattened input tile [s0, s1) meet kernel tap `tap`
// (flattened (kd, kh, kw)) at flattened output positions o_begin, o_begin + stride_w, ...
template <class Fn>
void for_each_tap_run(const Geometry& g, int64_t s0, int64_t s1, Fn&& fn) {
  const int64_t W = g.in[2], H = g.in[1];
  const int64_t Wo = g.out[2], Ho = g.out[1], Do = g.out[0];
  int64_t s = s0;
  while (s < s1) {
    const int64_t row = s / W;                 // (id, ih) row of the input
    const int64_t iw0 = s - row * W;
    const int64_t iw1 = (s1 - row * W) < W ? (s1 - row * W) : W;
    const int64_t ih = row % H, id = row / H;
    int64_t tap = 0;
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t od = id * g.stride[0] - g.pad[0] + kd * g.dilate[0];
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t oh = ih * g.stride[1] - g.pad[1] + kh * g.dilate[1];
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++tap) {
          if (od < 0 || od >= Do || oh < 0 || oh >= Ho) continue;
          // ow = iw*sw + c must satisfy 0 <= ow < Wo.
          const int64_t c = kw * g.dilate[2] - g.pad[2];
          int64_t lo = -floor_div(c, g.stride[2]);  // ceil(-c / sw)
          int64_t hi = floor_div(Wo - 1 - c, g.stride[2]) + 1;
          if (lo < iw0) lo = iw0;
          if (hi > iw1) hi = iw1;
          if (lo >= hi) continue;
          fn(tap, row * W + lo - s0, (od * Ho + oh) * Wo + lo * g.stride[2] + c, hi - lo);
        }
      }
    }
    s = row * W + iw1;
  }
}

}  // namespace cpu
}  // namespace deconv
