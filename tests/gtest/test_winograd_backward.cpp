// The Winograd F(2, 2) data gradient (src/core/cpu/winograd_backward.cpp), forced through
// RunOptions::algorithm: on the random layers winograd_cases.h draws (every layout,
// 1D/2D/3D, strides 1 to 3 and 8, pads, adj, target.shape, groups, a kernel-1 dimension)
// and targeted shapes, in float, double and float on double arrays, on 1 to 3 threads,
// with the weight and bias gradients beside it or not, against the direct-loop
// reference; RunStats::winograd_data_grad says it ran. Shapes it does not suit, and
// Algorithm::Direct, leave it out; the automatic rule takes the large layers only.
#include <gtest/gtest.h>

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

// mask: which gradients are asked for (1 data, 2 weight, 4 bias).
template <typename T>
void check_gradients(const Case& c, int threads, int mask, bool want_winograd,
                     Algorithm a = Algorithm::Winograd, int tile = 0) {
  SCOPED_TRACE(c.str() + (std::is_same<T, double>::value ? " double" : " float") +
               ", threads " + std::to_string(threads) + ", mask " + std::to_string(mask) +
               ", tile " + std::to_string(tile));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  RunStats stats;
  stats.winograd_data_grad = !want_winograd;  // the run must set it
  RunOptions opts = winograd_options(threads, a);
  opts.winograd_tile = tile;
  check_backward_case<T>(g, r, random_inputs(r, 71 + threads), opts, mask, &stats);
  EXPECT_EQ(stats.winograd_data_grad, want_winograd);
  if (want_winograd && tile) {
    EXPECT_EQ(stats.winograd_tile, tile);
  }
}

void check_float32_on_doubles(const Case& c, int threads, int tile) {
  SCOPED_TRACE(c.str() + " float32 on doubles, threads " + std::to_string(threads));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 23 + threads);
  const auto x = exact<float>(raw.x), w = exact<float>(raw.w), dy = exact<float>(raw.dy);
  std::vector<double> dx, dw, db;
  r.backward(dy, x, w, dx, dw, db);
  auto gx = poisoned<double>(r.data_size()), gw = poisoned<double>(r.weight_size());
  RunStats stats;
  RunOptions opts = winograd_options(threads);
  opts.winograd_tile = tile;
  deconvolution_backward_float32(Context{}, g, dy.data(), x.data(), w.data(), gx.data(),
                                 gw.data(), nullptr, opts, &stats);
  EXPECT_TRUE(stats.winograd_data_grad);
  for (double v : gx) ASSERT_EQ(v, static_cast<double>(static_cast<float>(v)));
  EXPECT_TRUE(close("data_grad", as<float>(gx), dx));
  EXPECT_TRUE(close("weight_grad", as<float>(gw), dw));
}

}  // namespace

TEST(WinogradDataGrad, RandomLayersOfEveryLayout) {
  for (int i = 0; i < 150; ++i) {
    const Case c = winograd_case(i);
    const int tile = i % 2 ? 4 : 2;  // each tile size on half the layers
    for (int t : {1, 2, 3}) {
      check_gradients<double>(c, t, 7, true, Algorithm::Winograd, tile);
      check_gradients<float>(c, t, 1, true, Algorithm::Winograd, tile);
    }
    check_float32_on_doubles(c, 2, tile);
    if (HasFailure()) break;  // one case's report is enough
  }
}

TEST(WinogradDataGrad, TargetedShapesAndSubsets) {
  const std::vector<Case> cases = {
      targeted(Layout::NCHW, 2, 2, 7, 5, {5, 6}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      targeted(Layout::NCHW, 2, 6, 1, 1, {7, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      targeted(Layout::NCHW, 1, 1, 3, 4, {5, 3}, {16, 16}, {8, 8}, {1, 1}, {4, 4}, {3, 7}),
      targeted(Layout::NCHW, 2, 1, 3, 2, {4, 7}, {1, 4}, {1, 2}, {1, 1}, {0, 1}),
      targeted(Layout::NHWC, 1, 1, 4, 3, {6, 5}, {2, 2}, {1, 1}, {1, 1}, {1, 0}),
      targeted(Layout::NCW, 2, 1, 5, 3, {41}, {16}, {8}, {1}, {4}),
      targeted(Layout::NDHWC, 1, 2, 3, 2, {3, 4, 2}, {4, 2, 6}, {2, 1, 3}, {1, 1, 1},
               {1, 0, 2}),
      targeted(Layout::NCHW, 1, 1, 3, 2, {5, 4}, {4, 6}, {2, 3}, {1, 1}, {0, 0}, {}, {11, 12}),
  };
  for (const Case& c : cases)
    for (int tile : {2, 4})
      for (int t : {1, 2, 3})
        for (int mask : {1, 3, 5, 7}) {
          check_gradients<double>(c, t, mask, true, Algorithm::Winograd, tile);
          check_gradients<float>(c, t, mask, true, Algorithm::Winograd, tile);
        }
  // Without the data gradient there is nothing for it to do.
  check_gradients<double>(cases[0], 2, 6, false);
}

TEST(WinogradDataGrad, UnsuitedShapesDirectAndTheAutomaticRule) {
  const Case k3 = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1});
  const Case k4 = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_gradients<double>(k3, 1, 7, false);
  check_gradients<float>(k4, 2, 7, false, Algorithm::Direct);
  check_gradients<float>(k4, 1, 7, false, Algorithm::Auto);
  const auto geometry = [](int64_t N, int64_t Cg, int64_t Fg, Tuple in) {
    const Case c = targeted(Layout::NCHW, N, 1, Cg, Fg, in, {4, 4}, {2, 2}, {1, 1}, {1, 1});
    return infer_geometry(c.params(), c.data_shape());
  };
  EXPECT_TRUE(cpu::winograd_data_grad_preferred(geometry(64, 256, 128, {8, 8}), 4));
  EXPECT_FALSE(cpu::winograd_data_grad_preferred(geometry(64, 256, 128, {8, 8}), 8));
  EXPECT_FALSE(cpu::winograd_data_grad_preferred(geometry(4, 256, 128, {8, 8}), 4));
  EXPECT_FALSE(cpu::winograd_data_grad_preferred(geometry(64, 64, 3, {32, 32}), 4));
  // The automatic choice takes it for calls that want dX without dW (the GEMM path's
  // im2col serves both at once).
  const Geometry big = geometry(64, 256, 128, {8, 8});
  std::vector<float> dy(element_count(big.out_shape), 1), x(element_count(big.data_shape), 1),
      w(element_count(big.weight_shape), 1), dx(x.size()), dw(w.size());
  auto ran = [&](bool want_dw) {
    RunStats stats;
    deconvolution_backward<float>(Context{}, big, dy.data(), x.data(), w.data(), dx.data(),
                                  want_dw ? dw.data() : nullptr, nullptr,
                                  winograd_options(2, Algorithm::Auto), &stats);
    return stats.winograd_data_grad;
  };
  EXPECT_TRUE(ran(false));
  EXPECT_FALSE(ran(true));
}
