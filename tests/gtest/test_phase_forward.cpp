// The phase-decomposed forward (src/core/cpu/phase_forward.cpp), forced through
// RunOptions::cpu_path: on the random cases of every channels-first layout and on
// targeted shapes (stride 1, stride > kernel, dilation with stride, groups, depthwise,
// target.shape with odd crops, wide rows that span several kernel blocks, many
// filters), in float and double, on 1 to 3 threads, against the direct-loop reference.
// RunStats::phase says the path ran; channels-last layers and a forced GEMM do not take it.
#include <gtest/gtest.h>

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

template <typename T>
void check_forward(const Case& c, CpuPath path, int threads, bool want_phase) {
  SCOPED_TRACE(c.str() + (std::is_same<T, double>::value ? " double" : " float") +
               ", threads " + std::to_string(threads));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  ASSERT_EQ(g.out_shape, r.out_shape);
  const Inputs raw = random_inputs(r, 77 + threads);
  const auto x = exact<T>(raw.x), w = exact<T>(raw.w), b = exact<T>(raw.b);
  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b);
  const RunOptions opts = path_options(path, threads);
  RunStats stats;
  stats.phase = !want_phase;  // the run must set it
  auto y = poisoned<T>(r.out_size());
  deconvolution_forward<T>(Context{}, g, xt.data(), wt.data(), c.bias ? bt.data() : nullptr,
                           y.data(), opts, &stats);
  EXPECT_EQ(stats.phase, want_phase);
  EXPECT_TRUE(close("out", y, r.forward(x, w, c.bias ? &b : nullptr)));
}

void check_all(const Case& c) {
  const bool phase = !layout_channels_last(c.layout);
  for (int t : {1, 2, 3}) {
    check_forward<double>(c, CpuPath::Phase, t, phase);
    check_forward<float>(c, CpuPath::Phase, t, phase);
  }
}

}  // namespace

TEST(PhaseForward, RandomChannelsFirstCases) {
  for (int i = 0; i < 300; ++i) {
    const Case c = random_case(i);
    if (layout_channels_last(c.layout)) continue;
    check_all(c);
    if (HasFailure()) break;  // one case's report is enough
  }
}

TEST(PhaseForward, StrideOneIsAPlainConvolution) {
  for (const Case& c : stride_one_cases()) check_all(c);
}

TEST(PhaseForward, StrideLargerThanKernelLeavesBiasOnlyPhases) {
  for (const Case& c : stride_above_kernel_cases()) check_all(c);
}

TEST(PhaseForward, DilationWithStride) {
  for (const Case& c : dilation_with_stride_cases()) check_all(c);
}

TEST(PhaseForward, GroupsAndDepthwise) {
  for (const Case& c : groups_and_depthwise_cases()) check_all(c);
}

TEST(PhaseForward, TargetShapeWithOddCrops) {
  for (const Case& c : odd_crop_cases()) check_all(c);
}

TEST(PhaseForward, WideRowsAndManyFilters) {
  // Rows of several 32-output blocks with a tail, and 13 filters (blocks of 8, 4 and 1).
  check_all(targeted(Layout::NCHW, 1, 1, 3, 13, {3, 70}, {4, 4}, {2, 2}, {1, 1}, {1, 1}));
  check_all(targeted(Layout::NCW, 2, 1, 2, 7, {150}, {16}, {8}, {1}, {4}));
}

TEST(PhaseForward, ChannelsLastAndForcedGemmTakeTheGemmPath) {
  const Case last = targeted(Layout::NHWC, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_forward<double>(last, CpuPath::Phase, 1, false);
  const Case first = targeted(Layout::NCHW, 1, 1, 3, 2, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1});
  check_forward<double>(first, CpuPath::Gemm, 2, false);
  check_forward<float>(first, CpuPath::Phase, 2, true);
}

// The automatic choice (phase_forward_preferred): the phase path up to 32 input channels
// per group, whatever the taps per phase, and up to 64 with 3 width taps in a phase, on
// rows of at least 16 outputs per phase.
TEST(PhaseForward, AutomaticChoiceFollowsChannelsPerGroup) {
  const auto k2s2 = [](int64_t Cg, int64_t w) {
    return targeted(Layout::NCHW, 1, 1, Cg, 4, {3, w}, {2, 2}, {2, 2}, {1, 1}, {0, 0});
  };
  check_forward<float>(k2s2(32, 20), CpuPath::Auto, 1, true);
  check_forward<float>(k2s2(64, 20), CpuPath::Auto, 1, false);   // U-Net-like: GEMM
  check_forward<double>(k2s2(32, 6), CpuPath::Auto, 1, false);   // 6 outputs per phase
  // 32 channels x 4 taps per phase (k4 s2), 16 channels x 9 taps (stride 1): phase.
  check_forward<double>(
      targeted(Layout::NCHW, 1, 1, 32, 4, {3, 20}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Auto, 2, true);
  check_forward<float>(
      targeted(Layout::NCHW, 1, 1, 16, 4, {3, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1}),
      CpuPath::Auto, 1, true);
  // Up to 64 channels when a phase has 3 or more width taps: stride 1 k3, dilated k3 s2
  // d2 (its even phase has all 3), not k4 s2 (2 taps).
  check_forward<float>(
      targeted(Layout::NCHW, 1, 1, 64, 4, {3, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1}),
      CpuPath::Auto, 1, true);
  check_forward<double>(
      targeted(Layout::NCHW, 1, 1, 64, 4, {3, 20}, {3, 3}, {2, 2}, {2, 2}, {2, 2}),
      CpuPath::Auto, 1, true);
  check_forward<float>(
      targeted(Layout::NCHW, 1, 1, 64, 4, {3, 20}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Auto, 1, false);
  check_forward<float>(
      targeted(Layout::NCHW, 1, 1, 65, 4, {3, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1}),
      CpuPath::Auto, 1, false);
  // Groups count per group: 4 groups of 16 take the phase path.
  check_forward<float>(
      targeted(Layout::NCHW, 1, 4, 16, 2, {3, 20}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Auto, 1, true);
}

namespace {

// float32 arithmetic on double arrays (dispatch's deconvolution_forward_float32): the
// phase path converts as it pads and stores; the GEMM path converts X as it packs it
// (channels-first, not direct: `want_packed`), else runs on a float copy of X.
void check_float32_on_doubles(const Case& c, CpuPath path, int threads, bool want_phase,
                              int want_packed = -1, int want_stored_once = -1) {
  SCOPED_TRACE(c.str() + " float32 on doubles, threads " + std::to_string(threads));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 91 + threads);
  const auto x = exact<float>(raw.x), w = exact<float>(raw.w), b = exact<float>(raw.b);
  const RunOptions opts = path_options(path, threads);
  RunStats stats;
  stats.phase = !want_phase;  // the run must set it
  auto y = poisoned<double>(r.out_size());
  deconvolution_forward_float32(Context{}, g, x.data(), w.data(), c.bias ? b.data() : nullptr,
                                y.data(), opts, &stats);
  EXPECT_EQ(stats.phase, want_phase);
  if (want_packed >= 0) {
    EXPECT_EQ(stats.packed, want_packed == 1);
  }
  if (want_stored_once >= 0) {
    EXPECT_EQ(stats.stored_once, want_stored_once == 1);
  }
  EXPECT_TRUE(close("out", as<float>(y), r.forward(x, w, c.bias ? &b : nullptr)));
}

}  // namespace

TEST(PhaseForward, Float32OnDoubleArrays) {
  for (int i = 0; i < 120; ++i) {
    const Case c = random_case(i);
    const bool phase = !layout_channels_last(c.layout);
    for (int t : {1, 2, 3}) check_float32_on_doubles(c, CpuPath::Phase, t, phase);
    check_float32_on_doubles(c, CpuPath::Gemm, 2, false);
    if (HasFailure()) break;
  }
  check_float32_on_doubles(
      targeted(Layout::NCHW, 2, 4, 3, 5, {7, 40}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Auto, 2, true);
}

TEST(Float32Forward, GemmPathConvertsAsItPacks) {
  // A tiny workspace: one sample's positions in several tiles, each packed and converted.
  Case c = targeted(Layout::NCHW, 3, 2, 5, 3, {23, 9}, {4, 3}, {2, 2}, {1, 1}, {1, 0});
  c.workspace = 0;
  for (int t : {1, 2, 3}) check_float32_on_doubles(c, CpuPath::Gemm, t, false, 1);
  // Several samples per chunk, 3D, two groups.
  Case g3 = targeted(Layout::NCDHW, 3, 2, 4, 6, {5, 4, 6}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1},
                     {0, 0, 0});
  for (int t : {1, 2}) check_float32_on_doubles(g3, CpuPath::Gemm, t, false, 1, 1);
  // Channels-last and the depthwise direct step read a float copy in place.
  check_float32_on_doubles(
      targeted(Layout::NHWC, 2, 2, 3, 2, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Gemm, 2, false, 0);
  check_float32_on_doubles(
      targeted(Layout::NCHW, 2, 4, 1, 1, {9, 8}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
      CpuPath::Gemm, 1, false, 0);
}
