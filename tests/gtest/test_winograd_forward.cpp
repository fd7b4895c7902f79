// The Winograd F(2, 2) forward (src/core/cpu/winograd_forward.cpp), forced through
// RunOptions::algorithm: on random layers whose kernel is twice the stride (every
// layout, 1D/2D/3D, strides 1 to 3 and 8, pads, adj, target.shape with odd crops,
// groups, depthwise, a kernel-1 dimension beside them, chunked by a small workspace), in
// float, double and float on double arrays, on 1 to 3 threads, against the direct-loop
// reference; RunStats::winograd says it ran. Shapes it does not suit run as before. The
// rounding error on inputs of large dynamic range is measured against the bound
// winograd_forward.cpp documents and against the direct (GEMM) path's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cpu/winograd.h"
#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"
#include "reference.h"
#include "winograd_cases.h"

using namespace deconv;
using namespace deconv_test;

namespace {

template <typename T>
void check_forward(const Case& c, int threads, bool want_winograd,
                   Algorithm a = Algorithm::Winograd, int tile = 0) {
  SCOPED_TRACE(c.str() + (std::is_same<T, double>::value ? " double" : " float") +
               ", threads " + std::to_string(threads) + ", tile " + std::to_string(tile));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 55 + threads);
  const auto x = exact<T>(raw.x), w = exact<T>(raw.w), b = exact<T>(raw.b);
  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b);
  RunStats stats;
  stats.winograd = !want_winograd;  // the run must set it
  auto y = poisoned<T>(r.out_size());
  RunOptions opts = winograd_options(threads, a);
  opts.winograd_tile = tile;
  deconvolution_forward<T>(Context{}, g, xt.data(), wt.data(), c.bias ? bt.data() : nullptr,
                           y.data(), opts, &stats);
  EXPECT_EQ(stats.winograd, want_winograd);
  if (want_winograd && tile) {
    EXPECT_EQ(stats.winograd_tile, tile);
  }
  EXPECT_TRUE(close("out", y, r.forward(x, w, c.bias ? &b : nullptr)));
}

void check_float32_on_doubles(const Case& c, int threads, int tile = 0) {
  SCOPED_TRACE(c.str() + " float32 on doubles, threads " + std::to_string(threads) +
               ", tile " + std::to_string(tile));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 19 + threads);
  const auto x = exact<float>(raw.x), w = exact<float>(raw.w), b = exact<float>(raw.b);
  RunStats stats;
  auto y = poisoned<double>(r.out_size());
  RunOptions opts = winograd_options(threads);
  opts.winograd_tile = tile;
  deconvolution_forward_float32(Context{}, g, x.data(), w.data(), c.bias ? b.data() : nullptr,
                                y.data(), opts, &stats);
  EXPECT_TRUE(stats.winograd);
  // Stored as floats: every value is one.
  for (double v : y) ASSERT_EQ(v, static_cast<double>(static_cast<float>(v)));
  EXPECT_TRUE(close("out", as<float>(y), r.forward(x, w, c.bias ? &b : nullptr)));
}

}  // namespace

TEST(WinogradForward, RandomLayersOfEveryLayout) {
  for (int i = 0; i < 150; ++i) {
    const Case c = winograd_case(i);
    for (int tile : {2, 4}) {
      for (int t : {1, 2, 3}) {
        check_forward<double>(c, t, true, Algorithm::Winograd, tile);
        check_forward<float>(c, t, true, Algorithm::Winograd, tile);
      }
      check_float32_on_doubles(c, 2, tile);
    }
    if (HasFailure()) break;  // one case's report is enough
  }
}

TEST(WinogradForward, TargetedShapes) {
  const std::vector<Case> cases = {
      // DCGAN-like k4 s2 p1 with groups; depthwise; FCN k16 s8 with odd size and adj.
      targeted(Layout::NCHW, 2, 2, 7, 5, {5, 6}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      targeted(Layout::NCHW, 2, 6, 1, 1, {7, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      targeted(Layout::NCHW, 1, 1, 3, 4, {5, 3}, {16, 16}, {8, 8}, {1, 1}, {4, 4}, {3, 7}),
      // A kernel-1 dimension beside a two-tap one, and stride 1 with kernel 2.
      targeted(Layout::NCHW, 2, 1, 3, 2, {4, 7}, {1, 4}, {1, 2}, {1, 1}, {0, 1}),
      targeted(Layout::NHWC, 1, 1, 4, 3, {6, 5}, {2, 2}, {1, 1}, {1, 1}, {1, 0}),
      // 1D long rows, 3D channels-last, target.shape with odd implied pads.
      targeted(Layout::NCW, 2, 1, 5, 3, {41}, {16}, {8}, {1}, {4}),
      targeted(Layout::NDHWC, 1, 2, 3, 2, {3, 4, 2}, {4, 2, 6}, {2, 1, 3}, {1, 1, 1},
               {1, 0, 2}),
      targeted(Layout::NCHW, 1, 1, 3, 2, {5, 4}, {4, 6}, {2, 3}, {1, 1}, {0, 0}, {}, {11, 12}),
  };
  for (const Case& c : cases)
    for (int tile : {2, 4}) {
      for (int t : {1, 2, 3}) {
        check_forward<double>(c, t, true, Algorithm::Winograd, tile);
        check_forward<float>(c, t, true, Algorithm::Winograd, tile);
      }
      check_float32_on_doubles(c, 1, tile);
    }
}

TEST(WinogradForward, SmallWorkspaceRunsInChunks) {
  // 3 MB (F(2, 2)) or 4 MB (F(4, 2)): the transformed filters, the channels-last copies
  // of input and output, and the transformed inputs and products of a few dozen tiles,
  // so several chunks per phase class.
  Case c = targeted(Layout::NCHW, 3, 1, 64, 100, {12, 14}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  for (int tile : {2, 4}) {
    c.workspace = tile == 2 ? 3 : 4;
    const Geometry g = infer_geometry(c.params(), c.data_shape());
    const Ref r(c);
    const Inputs raw = random_inputs(r, 3);
    for (int t : {1, 2}) {
      RunStats stats;
      RunOptions opts = winograd_options(t);
      opts.winograd_tile = tile;
      auto y = poisoned<double>(r.out_size());
      deconvolution_forward<double>(Context{}, g, raw.x.data(), raw.w.data(), raw.b.data(),
                                    y.data(), opts, &stats);
      EXPECT_TRUE(stats.winograd);
      EXPECT_EQ(stats.winograd_tile, tile);
      EXPECT_GT(stats.chunks, 4);  // more than one per phase class (4)
      EXPECT_LE(stats.temp_bytes, c.workspace << 20);
      EXPECT_TRUE(close("out", y, r.forward(raw.x, raw.w, &raw.b)));
    }
  }
}

TEST(WinogradForward, UnsuitedShapesAndDirectRunAsBefore) {
  // Kernel 3 with stride 2 (phases of one and two taps), dilation: not suited.
  const Case k3 = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1});
  const Case dil = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {2, 2}, {1, 1});
  const Case k4 = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_forward<double>(k3, 1, false);
  check_forward<float>(dil, 2, false);
  check_forward<double>(k4, 1, false, Algorithm::Direct);
}

// The automatic choice (winograd_forward_preferred): 2D or 3D layers of at least 128
// channels and 64 filters per group, and 256 tiles in each phase class.
TEST(WinogradForward, AutomaticChoice) {
  const auto k4s2 = [](Layout layout, int64_t N, int64_t G, int64_t Cg, int64_t Fg, Tuple in) {
    const Case c = targeted(layout, N, G, Cg, Fg, in, Tuple(in.size(), 4), Tuple(in.size(), 2),
                            Tuple(in.size(), 1), Tuple(in.size(), 1));
    return infer_geometry(c.params(), c.data_shape());
  };
  EXPECT_TRUE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 64, 1, 256, 128, {8, 8}), 4));
  EXPECT_TRUE(cpu::winograd_forward_preferred(k4s2(Layout::NHWC, 16, 1, 128, 64, {16, 16}), 8));
  EXPECT_TRUE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 1, 2, 128, 64, {32, 32}), 4));
  // 4x4 tiles a sample, N=4: 64 tiles; 8x8 tiles at N=1 too.
  EXPECT_FALSE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 4, 1, 256, 128, {8, 8}), 4));
  EXPECT_FALSE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 1, 1, 1024, 512, {16, 16}), 4));
  EXPECT_FALSE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 64, 1, 64, 3, {32, 32}), 4));
  EXPECT_FALSE(cpu::winograd_forward_preferred(k4s2(Layout::NCHW, 64, 1, 127, 64, {8, 8}), 4));
  EXPECT_FALSE(cpu::winograd_forward_preferred(k4s2(Layout::NCW, 64, 1, 256, 128, {256}), 4));
  // The rule decides a call: a preferred layer runs Winograd unless a CPU path or the
  // direct algorithm is asked for.
  const Case c = targeted(Layout::NCHW, 1, 1, 128, 64, {32, 32}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  std::vector<float> x(element_count(g.data_shape), 1), w(element_count(g.weight_shape), 1),
      b(c.F(), 0), y(element_count(g.out_shape));
  auto ran_winograd = [&](RunOptions opts) {
    RunStats stats;
    deconvolution_forward<float>(Context{}, g, x.data(), w.data(), b.data(), y.data(), opts,
                                 &stats);
    return stats.winograd;
  };
  EXPECT_TRUE(ran_winograd(winograd_options(1, Algorithm::Auto)));
  EXPECT_FALSE(ran_winograd(winograd_options(1, Algorithm::Direct)));
  EXPECT_FALSE(ran_winograd(path_options(CpuPath::Gemm, 1)));
  // All ones: each output is the number of terms that meet it.
  const Ref r(c);
  const std::vector<double> want =
      r.forward(std::vector<double>(x.size(), 1), std::vector<double>(w.size(), 1), nullptr);
  ran_winograd(winograd_options(2, Algorithm::Auto));
  EXPECT_TRUE(close("out", y, want));
}

// Rounding on inputs spanning 16 decades with both signs (so that sums cancel): the
// error, relative to the largest sum of |x| |w| over an output's terms (the scale every
// float sum of those terms is rounded at), stays within (3 * terms + 8) * eps, where
// terms = channels x taps per output; and within 4x the direct GEMM path's error.
TEST(WinogradForward, RoundingErrorOnLargeDynamicRange) {
  for (const Case& c :
       {targeted(Layout::NCHW, 2, 1, 48, 6, {6, 7}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {}, {}, false),
        targeted(Layout::NCW, 2, 1, 40, 5, {33}, {16}, {8}, {1}, {4}, {}, {}, false)}) {
    SCOPED_TRACE(c.str());
    const Geometry g = infer_geometry(c.params(), c.data_shape());
    const Ref r(c);
    std::mt19937_64 rng(2026);
    std::uniform_real_distribution<double> mant(-1, 1), expo(-8, 8);
    auto values = [&](int64_t n) {
      std::vector<double> v(n);
      for (double& e : v) e = static_cast<float>(mant(rng) * std::pow(10.0, expo(rng)));
      return v;
    };
    const std::vector<double> x = values(r.data_size()), w = values(r.weight_size());
    std::vector<double> ax(x), aw(w);
    for (double& e : ax) e = std::fabs(e);
    for (double& e : aw) e = std::fabs(e);
    const std::vector<double> want = r.forward(x, w, nullptr), scale = r.forward(ax, aw, nullptr);
    double most = 0;
    for (double s : scale) most = std::max(most, s);
    auto error = [&](Algorithm a, int tile) {
      const auto xf = as<float>(x), wf = as<float>(w);
      std::vector<float> y(r.out_size());
      RunOptions opts = winograd_options(1, a);
      opts.winograd_tile = tile;
      if (a == Algorithm::Direct) opts.cpu_path = CpuPath::Gemm;
      deconvolution_forward<float>(Context{}, g, xf.data(), wf.data(), nullptr, y.data(), opts,
                                   nullptr);
      double worst = 0;
      for (size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::fabs(y[i] - want[i]));
      return worst / most;
    };
    const double terms = double(c.Cg) * g.kernel_size() / (g.stride[0] * g.stride[1] * g.stride[2]);
    const double eps = std::numeric_limits<float>::epsilon();
    const double direct = error(Algorithm::Direct, 0);
    RecordProperty("direct_error", std::to_string(direct / eps) + " eps");
    for (int tile : {2, 4}) {
      const double wino = error(Algorithm::Winograd, tile);
      std::printf("[ info ] %s: direct %.2f eps, F(%d, 2) %.2f eps\n", c.str().c_str(),
                  direct / eps, tile, wino / eps);
      EXPECT_LE(wino, (3 * terms + 8) * eps);
      EXPECT_LE(wino, 4 * direct + 2 * eps)
          << "F(" << tile << ", 2) " << wino / eps << " eps, direct " << direct / eps << " eps";
    }
  }
}
