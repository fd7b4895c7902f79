// Test cases shared by the core's GoogleTest files: a Case (layout, sizes, tuples, bias,
// workspace), the seeded random-case generator, and comparison helpers (values exact in
// a type, relative tolerance per type, NaN-poisoned outputs). test_deconv_cpu.cpp checks
// the CPU kernels against a reference on these cases; test_deconv_gpu.cpp checks the
// GPU against the CPU on them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "core/params.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv_test {

using deconv::DeconvParams;
using deconv::Layout;
using deconv::Shape;
using deconv::Tuple;
using deconv::layout_channels_last;
using deconv::layout_name;
using deconv::layout_rank;

// ---- a test case -----------------------------------------------------------------------

struct Case {
  Layout layout = Layout::NCHW;  // the layout the data is in
  bool layout_given = true;      // false: leave DeconvParams::layout at None (default)
  int rank = 2;
  int64_t N = 1, G = 1, Cg = 1, Fg = 1;
  // Spatial tuples in MXNet order, `rank` entries each.
  Tuple in, kernel, stride, dilate, pad, adj, target;
  bool bias = false;
  int64_t workspace = 512;

  int64_t C() const { return G * Cg; }
  int64_t F() const { return G * Fg; }

  DeconvParams params() const {
    DeconvParams p;
    p.kernel = kernel;
    p.stride = stride;
    p.dilate = dilate;
    p.pad = pad;
    p.adj = adj;
    p.target_shape = target;
    p.num_filter = F();
    p.num_group = G;
    p.no_bias = !bias;
    p.workspace = workspace;
    p.layout = layout_given ? layout : Layout::None;
    return p;
  }
  Shape data_shape() const {
    Shape s{N};
    const bool last = layout_channels_last(layout);
    if (!last) s.push_back(C());
    s.insert(s.end(), in.begin(), in.end());
    if (last) s.push_back(C());
    return s;
  }
  std::string str() const {
    auto t = [](const Tuple& v) {
      std::ostringstream os;
      os << "(";
      for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
      os << ")";
      return os.str();
    };
    std::ostringstream os;
    os << layout_name(layout) << (layout_given ? "" : "[default]") << " N=" << N << " G=" << G
       << " Cg=" << Cg << " Fg=" << Fg << " in=" << t(in) << " kernel=" << t(kernel)
       << " stride=" << t(stride) << " dilate=" << t(dilate) << " pad=" << t(pad)
       << " adj=" << t(adj) << " target=" << t(target) << " bias=" << bias
       << " workspace=" << workspace;
    return os.str();
  }
};

inline Case make_case(Layout layout, int64_t N, int64_t G, int64_t Cg, int64_t Fg, Tuple in,
               Tuple kernel, Tuple stride, Tuple dilate, Tuple pad, Tuple adj, bool bias,
               int64_t workspace = 512) {
  Case c;
  c.layout = layout;
  c.rank = layout_rank(layout);
  c.N = N;
  c.G = G;
  c.Cg = Cg;
  c.Fg = Fg;
  c.in = std::move(in);
  c.kernel = std::move(kernel);
  c.stride = std::move(stride);
  c.dilate = std::move(dilate);
  c.pad = std::move(pad);
  c.adj = std::move(adj);
  c.bias = bias;
  c.workspace = workspace;
  return c;
}

// A hand-picked case: adj defaults to zeros, bias on, and target.shape may be given.
inline Case targeted(Layout layout, int64_t N, int64_t G, int64_t Cg, int64_t Fg, Tuple in,
                     Tuple k, Tuple s, Tuple d, Tuple p, Tuple a = {}, Tuple target = {},
                     bool bias = true) {
  Case c = make_case(layout, N, G, Cg, Fg, in, k, s, d, p, a.empty() ? Tuple(in.size(), 0) : a,
                     bias);
  c.target = std::move(target);
  return c;
}

// RunOptions on `path` with `threads` threads.
inline deconv::RunOptions path_options(deconv::CpuPath path, int threads) {
  deconv::RunOptions opts;
  opts.threads = threads;
  opts.cpu_path = path;
  return opts;
}

// Shapes both phase suites (forward and data gradient) check, by what they exercise.
inline std::vector<Case> stride_one_cases() {
  return {targeted(Layout::NCHW, 2, 1, 5, 3, {9, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}),
          targeted(Layout::NCW, 1, 1, 3, 9, {40}, {5}, {1}, {1}, {0})};
}
// Output phases no tap reaches (bias only), and dX rows no tap reaches along height.
inline std::vector<Case> stride_above_kernel_cases() {
  return {targeted(Layout::NCHW, 2, 1, 3, 2, {5, 4}, {2, 1}, {3, 4}, {1, 1}, {0, 0}, {2, 3})};
}
inline std::vector<Case> dilation_with_stride_cases() {
  return {targeted(Layout::NCHW, 1, 1, 4, 5, {6, 7}, {3, 3}, {2, 3}, {2, 2}, {2, 1}, {1, 2}),
          targeted(Layout::NCDHW, 1, 1, 2, 3, {3, 4, 5}, {2, 3, 2}, {2, 2, 3}, {3, 2, 2},
                   {1, 0, 2})};
}
inline std::vector<Case> groups_and_depthwise_cases() {
  return {targeted(Layout::NCHW, 2, 4, 3, 5, {6, 6}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
          targeted(Layout::NCHW, 3, 6, 1, 1, {7, 9}, {8, 8}, {4, 4}, {1, 1}, {2, 2}),
          targeted(Layout::NCW, 2, 5, 1, 2, {33}, {4}, {2}, {1}, {1})};
}
inline std::vector<Case> odd_crop_cases() {
  return {targeted(Layout::NCHW, 1, 1, 3, 4, {5, 6}, {4, 3}, {2, 2}, {1, 1}, {0, 0}, {},
                   {10, 9}),
          targeted(Layout::NCDHW, 2, 1, 2, 2, {3, 2, 4}, {3, 2, 4}, {2, 3, 2}, {1, 1, 1},
                   {0, 0, 0}, {}, {6, 5, 9})};
}

// ---- comparison ------------------------------------------------------------------------

template <typename T>
double tolerance() {
  return std::is_same<T, double>::value ? 1e-10 : 1e-4;
}

// max|got - ref| <= tol * max|ref| (and every value finite).
template <typename T>
::testing::AssertionResult close(const char* what, const std::vector<T>& got,
                                 const std::vector<double>& ref) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << what << ": size " << got.size() << " vs "
                                         << ref.size();
  double scale = 0, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, std::abs(ref[i]));
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = static_cast<double>(got[i]);
    if (!std::isfinite(g))
      return ::testing::AssertionFailure() << what << "[" << i << "] = " << g
                                           << " (not written?), expected " << ref[i];
    const double e = std::abs(g - ref[i]);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  if (worst > tolerance<T>() * std::max(scale, 1e-300))
    return ::testing::AssertionFailure()
           << what << ": max error " << worst << " at [" << at << "] (got " << got[at]
           << ", expected " << ref[at] << "), max|ref| = " << scale;
  return ::testing::AssertionSuccess();
}

inline std::vector<double> random_values(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Values as the type T holds them, and the same values back in double for the reference.
template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <typename T>
std::vector<double> exact(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<double>(static_cast<T>(v[i]));
  return r;
}

template <typename T>
std::vector<T> poisoned(int64_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

// ---- random cases ----------------------------------------------------------------------

// Case `index` of the seeded generator: layouts in turn (index % 5), groups, depthwise,
// dilation, pad/adj or target_shape (full and partial), defaults, bias, workspace 0 or 512.
inline Case random_case(int index) {
  std::mt19937_64 rng(0x5eed0000u + static_cast<uint64_t>(index));
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  static const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                                   Layout::NDHWC};
  Case c;
  c.layout = layouts[index % 5];  // every layout equally often
  c.rank = layout_rank(c.layout);
  c.layout_given = layout_channels_last(c.layout) || uni(0, 2) != 0;
  c.N = uni(1, 3);
  switch (uni(0, 3)) {
    case 0:  // no groups
      c.G = 1;
      c.Cg = uni(1, 4);
      c.Fg = uni(1, 4);
      break;
    case 1:  // grouped
      c.G = uni(2, 3);
      c.Cg = uni(1, 3);
      c.Fg = uni(1, 3);
      break;
    case 2:  // depthwise: one input channel per group
      c.G = uni(2, 5);
      c.Cg = 1;
      c.Fg = uni(1, 2);
      break;
    default:  // wider
      c.G = uni(1, 2);
      c.Cg = uni(4, 8);
      c.Fg = uni(3, 6);
      break;
  }
  const int64_t max_in = c.rank == 1 ? 12 : c.rank == 2 ? 7 : 4;
  const int64_t max_k = c.rank == 3 ? 3 : 4;
  // Sometimes leave stride/dilate/pad/adj unset (defaults: 1, 1, 0, 0).
  const bool defaults = uni(0, 5) == 0;
  const bool use_target = !defaults && uni(0, 3) == 0;
  for (int i = 0; i < c.rank; ++i) {
    const int64_t in = uni(1, max_in), k = uni(1, max_k);
    const int64_t s = defaults ? 1 : uni(1, 3);
    const int64_t d = defaults || uni(0, 3) != 0 ? 1 : uni(2, 3);
    const int64_t full = s * (in - 1) + d * (k - 1) + 1;
    c.in.push_back(in);
    c.kernel.push_back(k);
    c.stride.push_back(s);
    c.dilate.push_back(d);
    int64_t t = 0;
    if (use_target && uni(0, 3) != 0) t = uni(std::max<int64_t>(1, full - 5), full);
    c.target.push_back(t);
    if (defaults) {
      c.pad.push_back(0);
      c.adj.push_back(0);
    } else if (t != 0) {
      // Not used in this dimension: anything non-negative, adj even >= stride.
      c.pad.push_back(uni(0, 3));
      c.adj.push_back(uni(0, s + 1));
    } else {
      const int64_t a = uni(0, s - 1);
      // pad as large as keeps the output positive, so taps fall off both ends.
      const int64_t pmax = std::min(d * (k - 1) + 1, (full - 1 + a) / 2);
      c.adj.push_back(a);
      c.pad.push_back(uni(0, std::max<int64_t>(0, pmax)));
    }
  }
  if (defaults) {
    c.stride.clear();
    c.dilate.clear();
    c.pad.clear();
    c.adj.clear();
  }
  if (!use_target) c.target.clear();
  c.bias = uni(0, 1) == 1;
  c.workspace = uni(0, 2) == 0 ? 0 : 512;  // 0: one input position per tile
  return c;
}

// Backward in double on `ctx` with each subset of the gradients (mask bits: 1 data,
// 2 weight, 4 bias): every wanted one matches want_dx / want_dw / want_db, and every
// buffer not asked for stays untouched (NaN).
inline void check_gradient_subsets(const deconv::Context& ctx, const deconv::Geometry& g,
                                   const std::vector<double>& dy, const std::vector<double>& x,
                                   const std::vector<double>& w,
                                   const std::vector<double>& want_dx,
                                   const std::vector<double>& want_dw,
                                   const std::vector<double>& want_db,
                                   const deconv::RunOptions& opts) {
  auto untouched = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double e) { return std::isnan(e); });
  };
  for (int mask = 0; mask < 8; ++mask) {
    SCOPED_TRACE("mask " + std::to_string(mask));
    auto gx = poisoned<double>(deconv::element_count(g.data_shape)),
         gw = poisoned<double>(deconv::element_count(g.weight_shape)),
         gb = poisoned<double>(g.num_filter);
    deconv::deconvolution_backward<double>(ctx, g, dy.data(), x.data(), w.data(),
                                           (mask & 1) ? gx.data() : nullptr,
                                           (mask & 2) ? gw.data() : nullptr,
                                           (mask & 4) ? gb.data() : nullptr, opts);
    if (mask & 1) {
      EXPECT_TRUE(close("data_grad", gx, want_dx));
    } else {
      EXPECT_TRUE(untouched(gx));
    }
    if (mask & 2) {
      EXPECT_TRUE(close("weight_grad", gw, want_dw));
    } else {
      EXPECT_TRUE(untouched(gw));
    }
    if (mask & 4) {
      EXPECT_TRUE(close("bias_grad", gb, want_db));
    } else {
      EXPECT_TRUE(untouched(gb));
    }
  }
}

}  // namespace deconv_test
