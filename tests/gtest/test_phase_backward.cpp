// The direct data and weight gradients (src/core/cpu/phase_backward.cpp), forced
// through RunOptions::cpu_path: on the random cases of every channels-first layout and
// on targeted shapes (stride 1, stride > kernel, dilation with stride, groups,
// depthwise, target.shape with odd crops, wide rows, many channels, units split over
// several chunks), in float and double, on 1 to 3 threads, against the direct-loop
// reference; the bias gradient beside them, and each subset of the three.
// RunStats::phase_data_grad and phase_weight_grad say the paths ran.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"
#include "reference.h"

using namespace deconv;
using namespace deconv_test;

namespace {

// All three gradients of c in T, on `path` (or only the data gradient, when `weights`
// is false); want_direct says whether the gradients must have run direct.
template <typename T>
void check_backward(const Case& c, CpuPath path, int threads, bool want_direct,
                    bool weights = true) {
  SCOPED_TRACE(c.str() + (std::is_same<T, double>::value ? " double" : " float") +
               ", threads " + std::to_string(threads));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  ASSERT_EQ(g.out_shape, r.out_shape);
  RunStats stats;
  stats.phase_data_grad = !want_direct;  // the run must set them
  stats.phase_weight_grad = !want_direct;
  const int mask = weights ? (c.bias ? 7 : 3) : 1;
  check_backward_case<T>(g, r, random_inputs(r, 55 + threads), path_options(path, threads),
                         mask, &stats);
  EXPECT_EQ(stats.phase_data_grad, want_direct);
  EXPECT_EQ(stats.phase_weight_grad, want_direct && weights);
}

void check_all(const Case& c) {
  const bool direct = !layout_channels_last(c.layout);
  for (int t : {1, 2, 3}) {
    check_backward<double>(c, CpuPath::Phase, t, direct);
    check_backward<float>(c, CpuPath::Phase, t, direct);
  }
}

}  // namespace

TEST(PhaseBackward, RandomChannelsFirstCases) {
  for (int i = 0; i < 300; ++i) {
    const Case c = random_case(i);
    if (layout_channels_last(c.layout)) continue;
    check_all(c);
    if (HasFailure()) break;  // one case's report is enough
  }
}

TEST(PhaseBackward, StrideOne) {
  for (const Case& c : stride_one_cases()) check_all(c);
}

TEST(PhaseBackward, StrideLargerThanKernel) {
  for (const Case& c : stride_above_kernel_cases()) check_all(c);
}

TEST(PhaseBackward, DilationWithStride) {
  for (const Case& c : dilation_with_stride_cases()) check_all(c);
}

TEST(PhaseBackward, GroupsAndDepthwise) {
  for (const Case& c : groups_and_depthwise_cases()) check_all(c);
}

TEST(PhaseBackward, TargetShapeWithOddCrops) {
  for (const Case& c : odd_crop_cases()) check_all(c);
}

TEST(PhaseBackward, WideRowsAndManyChannels) {
  // dX rows of several blocks with a tail, 13 channels (dX blocks of 8, 4 and 1; dW
  // blocks of 3 and 1) and 3; 16 width taps (dW blocks of 4); 26 channels of 2 taps (dW
  // tasks of 24 and 2 channels, blocks of 6 and 2).
  check_all(targeted(Layout::NCHW, 1, 1, 13, 3, {3, 70}, {4, 4}, {2, 2}, {1, 1}, {1, 1}));
  check_all(targeted(Layout::NCW, 2, 1, 7, 2, {150}, {16}, {8}, {1}, {4}));
  check_all(targeted(Layout::NCHW, 2, 1, 26, 2, {4, 9}, {2, 2}, {2, 2}, {1, 1}, {0, 0}));
}

TEST(PhaseBackward, UnitsOverSeveralChunks) {
  // Rows this long keep the weight gradient to one (sample, group) unit per chunk: six
  // chunks, alternating groups, each adding to dW.
  const Case c = targeted(Layout::NCW, 3, 2, 2, 2, {33000}, {4}, {2}, {1}, {1});
  check_backward<double>(c, CpuPath::Phase, 2, true);
  check_backward<float>(c, CpuPath::Phase, 1, true);
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  std::vector<double> dy(r.out_size(), 1.0), x(r.data_size(), 1.0), w(r.weight_size(), 1.0);
  std::vector<double> dw(r.weight_size());
  RunStats stats;
  deconvolution_backward<double>(Context{}, g, dy.data(), x.data(), w.data(), nullptr,
                                 dw.data(), nullptr, path_options(CpuPath::Phase, 1), &stats);
  EXPECT_EQ(stats.chunks, 6);
}

TEST(PhaseBackward, SubsetsOfGradients) {
  const Case c = targeted(Layout::NCHW, 2, 2, 3, 2, {6, 18}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 3);
  std::vector<double> dx, dw, db;
  r.backward(raw.dy, raw.x, raw.w, dx, dw, db);
  check_gradient_subsets(Context{}, g, raw.dy, raw.x, raw.w, dx, dw, db,
                         path_options(CpuPath::Phase, 2));
}

TEST(PhaseBackward, ChannelsLastAndForcedGemmTakeTheGemmPath) {
  const Case last = targeted(Layout::NHWC, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_backward<double>(last, CpuPath::Phase, 1, false);
  check_backward<double>(last, CpuPath::Auto, 1, false, false);
  const Case first = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 20}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_backward<double>(first, CpuPath::Gemm, 2, false, false);
  check_backward<float>(first, CpuPath::Phase, 2, true, false);
}

// The automatic choice (phase_backward_preferred): 1D and 2D layers on dX rows of at
// least 16 values; dX alone with up to 32 filters per group; all gradients with width
// taps that overlap (kernel > stride), up to 64 channels and filters per group,
// ungrouped or depthwise.
TEST(PhaseBackward, AutomaticChoice) {
  const auto k4s2 = [](int64_t G, int64_t Cg, int64_t Fg, int64_t w) {
    return targeted(Layout::NCHW, 1, G, Cg, Fg, {3, w}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  };
  check_backward<float>(k4s2(1, 4, 32, 16), CpuPath::Auto, 1, true, false);
  check_backward<float>(k4s2(1, 4, 32, 16), CpuPath::Auto, 1, true, true);
  check_backward<float>(k4s2(1, 4, 33, 16), CpuPath::Auto, 1, false, false);
  check_backward<float>(k4s2(1, 4, 64, 16), CpuPath::Auto, 1, true, true);
  check_backward<double>(k4s2(1, 4, 65, 16), CpuPath::Auto, 1, false, true);
  check_backward<double>(k4s2(1, 65, 3, 16), CpuPath::Auto, 1, false, true);
  check_backward<double>(k4s2(1, 3, 3, 15), CpuPath::Auto, 1, false, false);
  check_backward<double>(k4s2(1, 3, 3, 15), CpuPath::Auto, 1, false, true);
  check_backward<double>(k4s2(2, 3, 3, 16), CpuPath::Auto, 1, false, true);   // grouped
  check_backward<double>(k4s2(5, 1, 1, 20), CpuPath::Auto, 2, true, true);    // depthwise
  check_backward<double>(  // k = s: GEMM for all gradients, direct for dX alone
      targeted(Layout::NCHW, 1, 1, 4, 4, {3, 16}, {2, 2}, {2, 2}, {1, 1}, {0, 0}),
      CpuPath::Auto, 1, false, true);
  check_backward<double>(
      targeted(Layout::NCHW, 1, 1, 4, 4, {3, 16}, {2, 2}, {2, 2}, {1, 1}, {0, 0}),
      CpuPath::Auto, 1, true, false);
  check_backward<double>(
      targeted(Layout::NCW, 2, 4, 2, 8, {40}, {4}, {2}, {1}, {1}), CpuPath::Auto, 2, true,
      false);
  check_backward<double>(
      targeted(Layout::NCDHW, 1, 1, 2, 4, {2, 3, 20}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1},
               {0, 0, 0}),
      CpuPath::Auto, 1, false, false);
}

// An infinite dY value reaches only the dW entries whose taps read it (as on the GEMM
// path and in the reference): the tap dots' last partial vector must not multiply the
// dY values past a tap's reads by zeros. 13 values per row: AVX2's 8 floats and a tail.
TEST(PhaseBackward, InfiniteOutGradReachesOnlyItsTaps) {
  const Case c = targeted(Layout::NCHW, 1, 1, 2, 2, {3, 13}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  Inputs in = random_inputs(r, 9);
  in.dy[r.out[2] - 1] = HUGE_VAL;  // filter 0, row 0, the last column
  std::vector<double> dx, dw, db;
  r.backward(in.dy, in.x, in.w, dx, dw, db);
  for (bool f32 : {false, true}) {
    SCOPED_TRACE(f32 ? "float" : "double");
    std::vector<double> gw(r.weight_size());
    if (f32) {
      const auto dy = as<float>(in.dy), x = as<float>(in.x), w = as<float>(in.w);
      std::vector<float> out(r.weight_size());
      deconvolution_backward<float>(Context{}, g, dy.data(), x.data(), w.data(), nullptr,
                                    out.data(), nullptr, path_options(CpuPath::Phase, 1),
                                    nullptr);
      gw.assign(out.begin(), out.end());
    } else {
      deconvolution_backward<double>(Context{}, g, in.dy.data(), in.x.data(), in.w.data(),
                                     nullptr, gw.data(), nullptr,
                                     path_options(CpuPath::Phase, 1), nullptr);
    }
    int64_t infinite = 0;
    for (size_t i = 0; i < gw.size(); ++i) {
      EXPECT_EQ(std::isfinite(gw[i]), std::isfinite(dw[i])) << "dW entry " << i;
      infinite += !std::isfinite(dw[i]);
    }
    EXPECT_GT(infinite, 0);
  }
}
