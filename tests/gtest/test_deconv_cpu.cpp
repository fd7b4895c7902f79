// Tests of the CPU kernels (src/core/cpu) through the dispatch (src/core/dispatch.h):
// forward and backward against a direct-loop reference written from the definition
// of a transposed convolution (reference.h, shared with test_deconv_cpu_paths.cpp), over
// seeded random cases covering every layout (the generator and the comparison helpers
// are in random_cases.h, shared with the GPU tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cuda/runtime/runtime_device_info.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"
#include "random_cases.h"
#include "reference.h"
#include "test_helpers.h"

using namespace deconv;
using namespace deconv_test;  // Case, make_case, random_case, close, Ref, check_case, ...

namespace {

// Infers the geometry, checks it against the reference's shapes, then runs float and
// double with 1 and 2 threads.
void check_all(const Case& c, uint64_t seed, std::initializer_list<int> threads = {1, 2}) {
  SCOPED_TRACE(c.str());
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  ASSERT_EQ(g.out_shape, r.out_shape);
  ASSERT_EQ(g.data_shape, c.data_shape());
  ASSERT_EQ(static_cast<int64_t>(g.in_size() * g.batch * g.channels), r.data_size());
  int64_t wsize = 1;
  for (int64_t v : g.weight_shape) wsize *= v;
  ASSERT_EQ(wsize, r.weight_size());
  const Inputs raw = random_inputs(r, seed);
  for (int t : threads) {
    check_case<double>(c, g, r, raw, t);
    check_case<float>(c, g, r, raw, t);
  }
}

class RandomCase : public ::testing::TestWithParam<int> {};

TEST_P(RandomCase, MatchesReference) {
  const Case c = random_case(GetParam());
  check_all(c, 1000 + GetParam());
}

constexpr int kRandomCases = 300;
INSTANTIATE_TEST_SUITE_P(Seeded, RandomCase, ::testing::Range(0, kRandomCases));

TEST(RandomCaseCoverage, GeneratorCoversTheSpace) {
  // The random cases above hit every feature the suite promises.
  int layouts[6] = {0}, depthwise = 0, grouped = 0, dilated = 0, padded = 0, adjusted = 0,
      partial_target = 0, full_target = 0, bias = 0, tiny_ws = 0, default_layout = 0,
      stride1_odd_target = 0, defaults = 0;
  for (int i = 0; i < kRandomCases; ++i) {
    const Case c = random_case(i);
    ++layouts[static_cast<int>(c.layout)];
    depthwise += c.G > 1 && c.Cg == 1;
    grouped += c.G > 1 && c.Cg > 1;
    dilated += std::any_of(c.dilate.begin(), c.dilate.end(), [](int64_t v) { return v > 1; });
    padded += std::any_of(c.pad.begin(), c.pad.end(), [](int64_t v) { return v > 0; });
    adjusted += std::any_of(c.adj.begin(), c.adj.end(), [](int64_t v) { return v > 0; });
    const auto nz = std::count_if(c.target.begin(), c.target.end(), [](int64_t v) { return v; });
    partial_target += nz > 0 && nz < c.rank;
    full_target += nz == c.rank;
    bias += c.bias;
    tiny_ws += c.workspace == 0;
    default_layout += !c.layout_given;
    defaults += c.stride.empty();
    for (size_t i2 = 0; i2 < c.target.size(); ++i2) {
      if (c.target[i2] == 0 || c.stride[i2] != 1) continue;
      const int64_t full = c.in[i2] + c.dilate[i2] * (c.kernel[i2] - 1);
      stride1_odd_target += (full - c.target[i2]) % 2 == 1;
    }
  }
  for (int l = 1; l <= 5; ++l) EXPECT_GE(layouts[l], kRandomCases / 5 - 1) << l;
  EXPECT_GT(depthwise, 10);
  EXPECT_GT(grouped, 10);
  EXPECT_GT(dilated, 30);
  EXPECT_GT(padded, 100);
  EXPECT_GT(adjusted, 30);
  EXPECT_GT(partial_target, 10);
  EXPECT_GT(full_target, 10);
  EXPECT_GT(bias, 100);
  EXPECT_GT(tiny_ws, 50);
  EXPECT_GT(default_layout, 20);
  EXPECT_GT(stride1_odd_target, 3);
  EXPECT_GT(defaults, 20);
}

// ---- targeted cases --------------------------------------------------------------------

TEST(DeconvCpu, FcnUpsampling2D) {
  // A typical 2x upsampling layer, bigger than the random cases (blocked GEMM paths).
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    check_all(make_case(l, 2, 1, 24, 16, {10, 9}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 1}, true),
              11);
  }
}

TEST(DeconvCpu, OneSampleOneGroupUsesGemmThreads) {
  // Fewer (sample, group) units than threads: the GEMM gets the threads instead.
  for (Layout l : {Layout::NCDHW, Layout::NDHWC}) {
    check_all(make_case(l, 1, 1, 20, 12, {4, 5, 6}, {3, 3, 3}, {2, 1, 2}, {1, 2, 1}, {1, 1, 0},
                        {1, 0, 1}, true),
              12);
  }
}

TEST(DeconvCpu, DepthwiseLarge) {
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    check_all(
        make_case(l, 3, 16, 1, 1, {8, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true, 512), 13);
    check_all(make_case(l, 2, 8, 1, 2, {5, 7}, {5, 3}, {1, 3}, {2, 1}, {4, 0}, {0, 2}, false, 0),
              14);
  }
}

TEST(DeconvCpu, TargetShapeStrideOneOddT) {
  // stride 1, target_shape one less than the full extent: pad 1, adj 1 >= stride.
  for (Layout l : {Layout::NCW}) {
    Case c = make_case(l, 2, 1, 3, 2, {6}, {4}, {1}, {1}, {}, {}, true);
    c.target = {8};  // full = 9, t = 1
    check_all(c, 15);
  }
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    Case c = make_case(l, 2, 2, 2, 3, {5, 4}, {3, 4}, {1, 2}, {1, 1}, {0, 1}, {0, 1}, false);
    c.target = {6, 0};  // h: full 7, t 1 -> pad 1 adj 1; w keeps pad 1, adj 1
    check_all(c, 16);
  }
}

TEST(DeconvCpu, PartialTilesAcrossRows) {
  // A 1 MB workspace and a large kernel make tiles of a few dozen input positions that
  // start and end inside rows of the input.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    // Fg*K = 8 * 25 * 25 = 5000: 1 MB holds 52 (float) or 26 (double) positions per thread.
    check_all(make_case(l, 2, 1, 3, 8, {9, 11}, {25, 25}, {2, 1}, {1, 1}, {3, 12}, {1, 0}, true, 1),
              17);
  }
  // 3D, Fg*K = 4 * 9*9*9 = 2916.
  check_all(make_case(Layout::NDHWC, 1, 2, 2, 4, {3, 4, 5}, {9, 9, 9}, {1, 2, 1}, {1, 1, 1},
                      {4, 0, 2}, {0, 1, 0}, false, 1),
            18);
}

TEST(DeconvCpu, TinyWorkspaceEqualsDefault) {
  // Tiling must not change the result beyond rounding (double, all layouts).
  const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                            Layout::NDHWC};
  for (Layout l : layouts) {
    const int rank = layout_rank(l);
    Case c = make_case(l, 2, 2, 3, 2, Tuple(rank, 4), Tuple(rank, 3), Tuple(rank, 2),
                       Tuple(rank, 1), Tuple(rank, 1), Tuple(rank, 1), true, 512);
    SCOPED_TRACE(c.str());
    Case tiny = c;
    tiny.workspace = 0;
    const Geometry g = infer_geometry(c.params(), c.data_shape());
    const Geometry gt = infer_geometry(tiny.params(), tiny.data_shape());
    const Ref r(c);
    const Inputs in = random_inputs(r, 19);
    const Context cpu;
    RunOptions opts;
    std::vector<double> y1(r.out_size()), y2(r.out_size()), dx1(r.data_size()),
        dx2(r.data_size()), dw1(r.weight_size()), dw2(r.weight_size());
    RunStats s1, s2;
    deconvolution_forward<double>(cpu, g, in.x.data(), in.w.data(), in.b.data(), y1.data(), opts,
                                  &s1);
    deconvolution_forward<double>(cpu, gt, in.x.data(), in.w.data(), in.b.data(), y2.data(), opts,
                                  &s2);
    EXPECT_TRUE(close("out", y2, std::vector<double>(y1.begin(), y1.end())));
    // One input position per tile: Fg * K values of one type.
    EXPECT_EQ(s2.temp_bytes, static_cast<int64_t>(g.filters_per_group() * g.kernel_size() *
                                                  sizeof(double)));
    EXPECT_GT(s1.temp_bytes, s2.temp_bytes);
    deconvolution_backward<double>(cpu, g, in.dy.data(), in.x.data(), in.w.data(), dx1.data(),
                                   dw1.data(), nullptr, opts);
    deconvolution_backward<double>(cpu, gt, in.dy.data(), in.x.data(), in.w.data(), dx2.data(),
                                   dw2.data(), nullptr, opts);
    EXPECT_TRUE(close("data_grad", dx2, dx1));
    EXPECT_TRUE(close("weight_grad", dw2, dw1));
  }
}

TEST(DeconvCpu, BackwardSubsetsOfGradients) {
  // Any of data_grad / weight_grad / bias_grad may be null; the others stay correct and
  // buffers not asked for are left untouched.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c =
        make_case(l, 3, 2, 2, 3, {5, 6}, {3, 2}, {2, 2}, {1, 2}, {1, 0}, {1, 0}, true, 0);
    SCOPED_TRACE(c.str());
    const Geometry g = infer_geometry(c.params(), c.data_shape());
    const Ref r(c);
    const Inputs in = random_inputs(r, 20);
    std::vector<double> dx, dw, db;
    r.backward(in.dy, in.x, in.w, dx, dw, db);
    const Context cpu;
    for (int threads : {1, 2}) {
      RunOptions opts;
      opts.threads = threads;
      SCOPED_TRACE("threads " + std::to_string(threads));
      check_gradient_subsets(cpu, g, in.dy, in.x, in.w, dx, dw, db, opts);
    }
  }
}

TEST(DeconvCpu, ThreadsZeroAndThree) {
  const Case c = make_case(Layout::NCHW, 4, 1, 3, 2, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {1, 1},
                           {0, 0}, true);
  check_all(c, 21, {0, 3});
}

// ---- workspace bound ---------------------------------------------------------------------

TEST(DeconvCpu, TempBytesWithinWorkspace) {
  // Full columns would take 64*64 positions * Fg*K = 200 values (6.5 MB in double); a
  // 1 MB workspace holds 655 positions per thread, so the bound can be met.
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c = make_case(l, 2, 1, 4, 8, {64, 64}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {0, 0},
                             true, 1);
    SCOPED_TRACE(c.str());
    const Geometry g = infer_geometry(c.params(), c.data_shape());
    const Ref r(c);
    const Inputs in = random_inputs(r, 22);
    std::vector<double> dx, dw, db;
    r.backward(in.dy, in.x, in.w, dx, dw, db);
    const auto y_ref = r.forward(in.x, in.w, &in.b);
    const int64_t limit = int64_t(1) << 20;
    const Context cpu;
    for (int threads : {1, 2}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      RunOptions opts;
      opts.threads = threads;
      opts.cpu_path = CpuPath::Gemm;  // the bound on the GEMM path's column buffer
      RunStats fs, bs;
      fs.temp_bytes = bs.temp_bytes = -1;
      std::vector<double> y(r.out_size()), gx(r.data_size()), gw(r.weight_size()), gb(r.F);
      deconvolution_forward<double>(cpu, g, in.x.data(), in.w.data(), in.b.data(), y.data(),
                                    opts, &fs);
      deconvolution_backward<double>(cpu, g, in.dy.data(), in.x.data(), in.w.data(), gx.data(),
                                     gw.data(), gb.data(), opts, &bs);
      EXPECT_GT(fs.temp_bytes, limit / 2);
      EXPECT_LE(fs.temp_bytes, limit);
      EXPECT_GT(bs.temp_bytes, limit / 2);
      EXPECT_LE(bs.temp_bytes, limit);
      EXPECT_TRUE(close("out", y, y_ref));
      EXPECT_TRUE(close("data_grad", gx, dx));
      EXPECT_TRUE(close("weight_grad", gw, dw));
      EXPECT_TRUE(close("bias_grad", gb, db));
    }
    // Float halves the bytes per value, not the bound.
    RunOptions opts;
    opts.cpu_path = CpuPath::Gemm;
    RunStats fs;
    std::vector<float> xf = as<float>(in.x), wf = as<float>(in.w), yf(r.out_size());
    deconvolution_forward<float>(cpu, g, xf.data(), wf.data(), nullptr, yf.data(), opts, &fs);
    EXPECT_GT(fs.temp_bytes, limit / 2);
    EXPECT_LE(fs.temp_bytes, limit);
  }
}

// ---- interrupts --------------------------------------------------------------------------

// Runs forward and backward of `c` with an interrupt callback that always says stop, and
// expects both to throw Interrupted after polling it.
void expect_interrupted(const Case& c, int threads) {
  SCOPED_TRACE(c.str() + ", threads " + std::to_string(threads));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs in = random_inputs(r, 23);
  std::vector<double> y(r.out_size()), gx(r.data_size()), gw(r.weight_size()), gb(r.F);
  const Context cpu;
  RunOptions opts;
  opts.threads = threads;
  int calls = 0;
  opts.interrupted = [&calls]() {
    ++calls;
    return true;
  };
  EXPECT_THROW(deconvolution_forward<double>(cpu, g, in.x.data(), in.w.data(), in.b.data(),
                                             y.data(), opts),
               Interrupted);
  EXPECT_GE(calls, 1);
  calls = 0;
  EXPECT_THROW(deconvolution_backward<double>(cpu, g, in.dy.data(), in.x.data(), in.w.data(),
                                              gx.data(), gw.data(), gb.data(), opts),
               Interrupted);
  EXPECT_GE(calls, 1);
}

TEST(DeconvCpu, InterruptStopsForwardAndBackward) {
  // One thread, several (sample, group) units; and two threads asked for but a single
  // unit, so the units run on the calling thread (the GEMM gets the threads).
  expect_interrupted(make_case(Layout::NCHW, 4, 2, 2, 2, {6, 6}, {3, 3}, {2, 2}, {1, 1},
                               {1, 1}, {0, 0}, true),
                     1);
  expect_interrupted(make_case(Layout::NDHWC, 1, 1, 3, 2, {3, 4, 5}, {2, 2, 2}, {1, 2, 2},
                               {1, 1, 1}, {0, 0, 0}, {0, 1, 1}, true),
                     2);
}

// With 2 threads and several units, worker threads may take every unit; the calling
// thread's check before the parallel loop must still stop the run.
TEST(DeconvCpu, InterruptStopsForwardWithTwoThreads) {
  for (int rep = 0; rep < 200; ++rep) {
    expect_interrupted(make_case(Layout::NCHW, 16, 2, 2, 2, {6, 6}, {3, 3}, {2, 2}, {1, 1},
                                 {1, 1}, {0, 0}, true, 0),
                       2);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(DeconvCpu, InterruptBetweenTilesStopsForwardAndBackward) {
  // workspace 0: one input position per tile, many chunks.
  const Case c = make_case(Layout::NHWC, 1, 1, 2, 2, {6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1},
                           {0, 0}, false, 0);
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs in = random_inputs(r, 24);
  std::vector<float> x = as<float>(in.x), w = as<float>(in.w), dy = as<float>(in.dy);
  std::vector<float> y(r.out_size()), gx(r.data_size()), gw(r.weight_size());
  const Context cpu;
  RunOptions opts;
  int calls = 0;
  // Polls are time-throttled (InterruptPoll::kInterval), so a short run polls once, at
  // its end; test_interrupts.cpp times the polls of long runs.
  opts.interrupted = [&calls]() { return ++calls >= 1; };
  EXPECT_THROW(deconvolution_forward<float>(cpu, g, x.data(), w.data(), nullptr, y.data(), opts),
               Interrupted);
  EXPECT_EQ(calls, 1);  // stops at the first true
  calls = 0;
  EXPECT_THROW(deconvolution_backward<float>(cpu, g, dy.data(), x.data(), w.data(), gx.data(),
                                             gw.data(), nullptr, opts),
               Interrupted);
  EXPECT_EQ(calls, 1);
}

TEST(DeconvCpu, InterruptCallbackReturningFalseIsPolled) {
  const Case c = make_case(Layout::NCW, 3, 1, 2, 2, {8}, {3}, {2}, {1}, {1}, {1}, true, 0);
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs in = random_inputs(r, 25);
  std::vector<double> y(r.out_size());
  const Context cpu;
  RunOptions opts;
  int calls = 0;
  opts.interrupted = [&calls]() {
    ++calls;
    return false;
  };
  deconvolution_forward<double>(cpu, g, in.x.data(), in.w.data(), in.b.data(), y.data(), opts);
  EXPECT_GE(calls, 1);  // at least the end-of-run poll (more only on a run of over 10 ms)
  EXPECT_TRUE(close("out", y, r.forward(in.x, in.w, &in.b)));
}

// ---- GPU context the build or machine cannot serve ------------------------------------------

// A CPU-only build refuses every GPU device ("no GPU support"); a CUDA build refuses device
// numbers at or beyond device_count() (every one on a machine without a device). Either way
// it is UnsupportedError on "ctx", raised before anything is written.
TEST(DeconvDispatch, GpuContextUnsupported) {
  const bool built = cuda::compiled_with_cuda();
  const int n = cuda::device_count();
  if (!built) {
    EXPECT_EQ(n, 0);
  }
  const std::string why = built ? "" : "GPU";  // the CUDA build words it its own way
  const Case c = make_case(Layout::NCHW, 1, 1, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0},
                           {0, 0}, true);
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  std::vector<float> xf(r.data_size(), 1), wf(r.weight_size(), 1), bf(r.F, 1),
      yf(r.out_size(), -7);
  std::vector<double> xd(r.data_size(), 1), wd(r.weight_size(), 1), bd(r.F, 1),
      yd(r.out_size(), -7);
  Context gpu;
  gpu.device = Device::GPU;
  RunOptions opts;
  for (int id : {n, n + 1}) {
    gpu.device_id = id;
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_forward<float>(gpu, g, xf.data(), wf.data(), bf.data(),
                                                     yf.data(), opts),
                        "ctx", why);
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_forward<double>(gpu, g, xd.data(), wd.data(), bd.data(),
                                                      yd.data(), opts),
                        "ctx", why);
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_backward<float>(gpu, g, yf.data(), xf.data(), wf.data(),
                                                      xf.data(), wf.data(), bf.data(), opts),
                        "ctx", "");
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_backward<double>(gpu, g, yd.data(), xd.data(), wd.data(),
                                                       xd.data(), wd.data(), bd.data(), opts),
                        "ctx", "");
  }
  // Nothing was written.
  EXPECT_TRUE(std::all_of(yf.begin(), yf.end(), [](float v) { return v == -7; }));
  EXPECT_TRUE(std::all_of(xd.begin(), xd.end(), [](double v) { return v == 1; }));
  EXPECT_DECONV_ERROR(UnsupportedError, cuda::require_device(n), "ctx", "");
}

}  // namespace
