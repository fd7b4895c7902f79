// Layers the Winograd paths suit, shared by test_winograd_forward.cpp and
// test_winograd_backward.cpp: a seeded generator over every layout and options that
// force Winograd.
#pragma once

#include <random>

#include "core/cpu/winograd.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"

namespace deconv_test {

inline deconv::RunOptions winograd_options(int threads,
                                           deconv::Algorithm a = deconv::Algorithm::Winograd) {
  deconv::RunOptions opts;
  opts.threads = threads;
  opts.algorithm = a;
  return opts;
}

// Case `index` of a seeded generator of layers the transforms suit.
inline Case winograd_case(int index) {
  std::mt19937_64 rng(0x3196a000u + static_cast<uint64_t>(index));
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  static const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                                   Layout::NDHWC};
  for (;;) {
    Case c;
    c.layout = layouts[index % 5];
    c.rank = layout_rank(c.layout);
    c.N = uni(1, 3);
    c.G = uni(0, 3) == 0 ? uni(2, 3) : 1;
    c.Cg = uni(1, 6);
    c.Fg = uni(1, 5);
    c.bias = uni(0, 1) == 1;
    const bool crop = uni(0, 3) == 0;
    const int unit = c.rank > 1 && uni(0, 4) == 0 ? static_cast<int>(uni(0, c.rank - 1)) : -1;
    for (int d = 0; d < c.rank; ++d) {
      const int64_t s = d == unit ? 1 : uni(0, 5) == 0 ? 8 : uni(1, 3);
      const int64_t k = d == unit ? 1 : 2 * s;
      c.in.push_back(uni(1, c.rank == 3 ? 5 : 9));
      c.kernel.push_back(k);
      c.stride.push_back(s);
      c.dilate.push_back(1);
      c.pad.push_back(d == unit ? 0 : uni(0, k - 1));
      c.adj.push_back(d == unit ? 0 : uni(0, s - 1));
      // A target shape implies the pad (odd totals crop one more at the end).
      if (crop) c.target.push_back((c.in[d] - 1) * s + k - uni(0, k - 1));
    }
    if (crop) c.pad = c.adj = Tuple(c.rank, 0);
    try {
      const deconv::Geometry g = deconv::infer_geometry(c.params(), c.data_shape());
      if (g.out_size() > 0 && deconv::cpu::winograd_forward_supported(g)) return c;
    } catch (const std::exception&) {
    }
    index += 5;  // an invalid draw: the next seed of the same layout
  }
}

}  // namespace deconv_test
