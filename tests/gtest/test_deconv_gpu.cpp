// Tests of the GPU path (src/core/cuda) through the dispatch (src/core/dispatch.h): forward
// and all three gradients computed on the GPU against the CPU kernels (which
// test_deconv_cpu.cpp checks against a direct-loop reference) on seeded random cases from
// random_cases.h and on targeted cases, for each way the GPU may pick its algorithm:
// cudnn_tune None / Off / LimitedWorkspace / Fastest, and cudnn_off (deconv's own kernels).
// Float and double; tolerance relative to the largest reference value, 1e-4 / 1e-10.
//
// Built only in the CUDA configuration of tests/gtest. Every test that needs a device skips
// when deconv::cuda::device_count() is 0; the tests of the build information and of device
// numbers out of range run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <regex>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cuda/deconv_cuda.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"
#include "random_cases.h"
#include "test_helpers.h"

using namespace deconv;
using namespace deconv_test;  // Case, make_case, random_case, close, exact, poisoned, ...

namespace {

#define SKIP_WITHOUT_DEVICE()                                   \
  do {                                                          \
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

// ---- how the GPU picks its algorithm ---------------------------------------------------

struct Mode {
  const char* name;
  CudnnTune tune;
  bool cudnn_off;
};

const Mode kModes[] = {
    {"tune_default", CudnnTune::None, false},
    {"tune_off", CudnnTune::Off, false},
    {"tune_limited_workspace", CudnnTune::LimitedWorkspace, false},
    {"tune_fastest", CudnnTune::Fastest, false},
    {"cudnn_off", CudnnTune::None, true},
};
constexpr int kNumModes = sizeof(kModes) / sizeof(kModes[0]);

// The geometry of case `c` with mode `m`'s cuDNN settings.
Geometry geometry_for(const Case& c, const Mode& m) {
  DeconvParams p = c.params();
  p.cudnn_tune = m.tune;
  p.cudnn_off = m.cudnn_off;
  Geometry g = infer_geometry(p, c.data_shape());
  EXPECT_EQ(g.cudnn_tune, m.tune);  // infer_geometry copies them from the parameters
  EXPECT_EQ(g.cudnn_off, m.cudnn_off);
  return g;
}

// ---- inputs and the CPU's results --------------------------------------------------------

// Random inputs whose values a float holds exactly, so that the float and the double runs
// see the same numbers and the CPU's double results are the reference for both.
struct Inputs {
  std::vector<double> x, w, b, dy;
};

Inputs random_inputs(const Geometry& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.x = exact<float>(random_values(element_count(g.data_shape), rng));
  in.w = exact<float>(random_values(element_count(g.weight_shape), rng));
  in.b = exact<float>(random_values(g.num_filter, rng));
  in.dy = exact<float>(random_values(element_count(g.out_shape), rng));
  return in;
}

struct Results {
  std::vector<double> y, dx, dw, db;
};

// The CPU kernels in double: the reference the GPU's results are held to.
Results cpu_results(const Geometry& g, const Inputs& in, bool bias) {
  Results r;
  r.y.assign(element_count(g.out_shape), 0.0);
  r.dx.assign(element_count(g.data_shape), 0.0);
  r.dw.assign(element_count(g.weight_shape), 0.0);
  r.db.assign(g.num_filter, 0.0);
  const Context cpu;
  RunOptions opts;
  // OpenMP's default thread count for the larger cases; one thread for the small ones.
  opts.threads = element_count(g.out_shape) * g.kernel_size() > 100000 ? 0 : 1;
  deconvolution_forward<double>(cpu, g, in.x.data(), in.w.data(), bias ? in.b.data() : nullptr,
                                r.y.data(), opts);
  deconvolution_backward<double>(cpu, g, in.dy.data(), in.x.data(), in.w.data(), r.dx.data(),
                                 r.dw.data(), bias ? r.db.data() : nullptr, opts);
  return r;
}

Context gpu_context(int device = 0) {
  Context c;
  c.device = Device::GPU;
  c.device_id = device;
  return c;
}

// Forward and backward (all gradients) of geometry `g` on the GPU in type T, each result
// compared with the CPU's. Outputs start as NaN, so an element not written shows.
template <typename T>
void check_gpu_as(const Geometry& g, const Inputs& in, const Results& want, bool bias,
                  int device = 0) {
  SCOPED_TRACE((std::is_same<T, double>::value ? "double" : "float"));
  const std::vector<T> x = as<T>(in.x), w = as<T>(in.w), b = as<T>(in.b), dy = as<T>(in.dy);
  const Context gpu = gpu_context(device);
  const RunOptions opts;

  auto y = poisoned<T>(element_count(g.out_shape));
  deconvolution_forward<T>(gpu, g, x.data(), w.data(), bias ? b.data() : nullptr, y.data(),
                           opts);
  EXPECT_TRUE(close("out", y, want.y));

  auto gx = poisoned<T>(element_count(g.data_shape)), gw = poisoned<T>(element_count(g.weight_shape)),
       gb = poisoned<T>(g.num_filter);
  deconvolution_backward<T>(gpu, g, dy.data(), x.data(), w.data(), gx.data(), gw.data(),
                            bias ? gb.data() : nullptr, opts);
  EXPECT_TRUE(close("data_grad", gx, want.dx));
  EXPECT_TRUE(close("weight_grad", gw, want.dw));
  if (bias) {
    EXPECT_TRUE(close("bias_grad", gb, want.db));
  } else {
    EXPECT_TRUE(std::all_of(gb.begin(), gb.end(), [](T v) { return std::isnan(v); }))
        << "bias_grad written although there is no bias";
  }
}

// Case `c` in mode `m`, float and double, against the CPU.
void check_gpu(const Case& c, const Mode& m, uint64_t seed, int device = 0) {
  SCOPED_TRACE(c.str() + ", mode " + m.name + ", device " + std::to_string(device));
  const Geometry g = geometry_for(c, m);
  const Inputs in = random_inputs(g, seed);
  const Results want = cpu_results(g, in, c.bias);
  check_gpu_as<double>(g, in, want, c.bias, device);
  check_gpu_as<float>(g, in, want, c.bias, device);
}

void check_gpu_all_modes(const Case& c, uint64_t seed) {
  for (const Mode& m : kModes) check_gpu(c, m, seed);
}

// ---- seeded random cases, per mode -----------------------------------------------------

// Mode i runs the generator's cases kFirstCase + i * kCasesPerMode + [0, kCasesPerMode):
// cases the CPU suite does not draw (it uses 0..299), every layout equally often.
constexpr int kCasesPerMode = 60;
constexpr int kFirstCase = 10000;

int case_index(int mode, int i) { return kFirstCase + mode * kCasesPerMode + i; }

class GpuRandomCase : public ::testing::TestWithParam<int> {};

TEST_P(GpuRandomCase, MatchesCpu) {
  SKIP_WITHOUT_DEVICE();
  const int mode = GetParam();
  for (int i = 0; i < kCasesPerMode; ++i) {
    const int index = case_index(mode, i);
    SCOPED_TRACE("random case " + std::to_string(index));
    check_gpu(random_case(index), kModes[mode], 5000 + static_cast<uint64_t>(index));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, GpuRandomCase, ::testing::Range(0, kNumModes),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(kModes[info.param].name);
                         });

TEST(GpuRandomCaseCoverage, EachModeSeesEveryFeature) {
  // Runs without a device: the cases each mode gets cover what the suite promises.
  for (int mode = 0; mode < kNumModes; ++mode) {
    SCOPED_TRACE(kModes[mode].name);
    int layouts[6] = {0}, depthwise = 0, grouped = 0, dilated = 0, padded = 0, adjusted = 0,
        target = 0, bias = 0, no_bias = 0, tiny_ws = 0, default_layout = 0;
    for (int i = 0; i < kCasesPerMode; ++i) {
      const Case c = random_case(case_index(mode, i));
      ++layouts[static_cast<int>(c.layout)];
      depthwise += c.G > 1 && c.Cg == 1;
      grouped += c.G > 1 && c.Cg > 1;
      dilated += std::any_of(c.dilate.begin(), c.dilate.end(), [](int64_t v) { return v > 1; });
      padded += std::any_of(c.pad.begin(), c.pad.end(), [](int64_t v) { return v > 0; });
      adjusted += std::any_of(c.adj.begin(), c.adj.end(), [](int64_t v) { return v > 0; });
      target += std::any_of(c.target.begin(), c.target.end(), [](int64_t v) { return v > 0; });
      bias += c.bias;
      no_bias += !c.bias;
      tiny_ws += c.workspace == 0;
      default_layout += !c.layout_given;
    }
    for (int l = 1; l <= 5; ++l) EXPECT_EQ(layouts[l], kCasesPerMode / 5) << l;
    EXPECT_GT(depthwise, 0);
    EXPECT_GT(grouped, 0);
    EXPECT_GT(dilated, 0);
    EXPECT_GT(padded, 0);
    EXPECT_GT(adjusted, 0);
    EXPECT_GT(target, 0);
    EXPECT_GT(bias, 0);
    EXPECT_GT(no_bias, 0);
    EXPECT_GT(tiny_ws, 0);
    EXPECT_GT(default_layout, 0);
  }
}

// ---- targeted cases, every mode ----------------------------------------------------------

TEST(DeconvGpu, TargetShapeStrideOneOddPad) {
  // stride 1 and target = full - 1: total padding 1, pad 1 at the start and 0 at the end
  // (asymmetric; adj 1 >= stride), which cuDNN's symmetric padding cannot express alone.
  SKIP_WITHOUT_DEVICE();
  Case c1 = make_case(Layout::NCW, 2, 1, 3, 2, {6}, {4}, {1}, {1}, {}, {}, true);
  c1.target = {8};  // full 9
  check_gpu_all_modes(c1, 31);
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    Case c = make_case(l, 2, 1, 3, 4, {6, 5}, {4, 4}, {1, 1}, {1, 1}, {}, {}, true);
    c.target = {8, 7};  // full (9, 8)
    check_gpu_all_modes(c, 32);
    Case partial = make_case(l, 2, 2, 2, 3, {5, 4}, {3, 4}, {1, 2}, {1, 1}, {0, 1}, {0, 1}, false);
    partial.target = {6, 0};  // h: full 7, pad 1 adj 1; w keeps pad 1, adj 1
    check_gpu_all_modes(partial, 33);
  }
  for (Layout l : {Layout::NCDHW, Layout::NDHWC}) {
    Case c = make_case(l, 1, 1, 2, 3, {3, 4, 5}, {4, 2, 4}, {1, 1, 1}, {1, 1, 1}, {}, {}, true);
    c.target = {5, 4, 7};  // full (6, 5, 8)
    check_gpu_all_modes(c, 34);
  }
}

TEST(DeconvGpu, AdjPositive) {
  SKIP_WITHOUT_DEVICE();
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    check_gpu_all_modes(
        make_case(l, 2, 1, 3, 2, {5, 4}, {3, 2}, {3, 2}, {1, 1}, {1, 0}, {2, 1}, true), 35);
  }
  check_gpu_all_modes(make_case(Layout::NCW, 3, 1, 2, 2, {7}, {4}, {3}, {2}, {2}, {2}, false),
                      36);
  check_gpu_all_modes(make_case(Layout::NDHWC, 1, 2, 2, 2, {3, 3, 4}, {2, 3, 2}, {2, 3, 2},
                                {1, 1, 1}, {0, 1, 0}, {1, 2, 1}, true),
                      37);
}

TEST(DeconvGpu, DepthwiseLarge) {
  SKIP_WITHOUT_DEVICE();
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    check_gpu_all_modes(
        make_case(l, 4, 32, 1, 1, {12, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true), 38);
    check_gpu_all_modes(
        make_case(l, 2, 16, 1, 2, {9, 7}, {5, 3}, {1, 3}, {2, 1}, {4, 0}, {0, 2}, false), 39);
  }
}

TEST(DeconvGpu, Dilation3D) {
  SKIP_WITHOUT_DEVICE();
  for (Layout l : {Layout::NCDHW, Layout::NDHWC}) {
    check_gpu_all_modes(make_case(l, 2, 2, 3, 2, {4, 5, 3}, {3, 2, 3}, {2, 1, 2}, {2, 3, 1},
                                  {1, 0, 2}, {1, 0, 0}, true),
                        40);
  }
}

TEST(DeconvGpu, WorkspaceZero) {
  // No temporary memory allowed: cuDNN must pick an algorithm without workspace, and
  // deconv's own kernels must work in the smallest chunks.
  SKIP_WITHOUT_DEVICE();
  for (Layout l : {Layout::NCHW, Layout::NDHWC}) {
    const int rank = layout_rank(l);
    check_gpu_all_modes(make_case(l, 2, 2, 3, 2, Tuple(rank, 5), Tuple(rank, 3), Tuple(rank, 2),
                                  Tuple(rank, 1), Tuple(rank, 1), Tuple(rank, 1), true, 0),
                        41);
  }
}

TEST(DeconvGpu, AlgorithmChoiceKeysOnEveryParameter) {
  // Cases that differ from a base case in one parameter each, run in turn and the base
  // case again after each: a cache of chosen algorithms (or plans, descriptors) keyed on
  // too little would give one case another's result.
  SKIP_WITHOUT_DEVICE();
  const Case base =
      make_case(Layout::NCHW, 2, 2, 2, 3, {6, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, true);
  std::vector<Case> variants;
  auto vary = [&](auto change) {
    Case c = base;
    change(c);
    variants.push_back(c);
  };
  vary([](Case& c) { c.N = 3; });
  vary([](Case& c) { c.in = {6, 6}; });
  vary([](Case& c) { c.stride = {1, 2}; });
  vary([](Case& c) { c.dilate = {2, 1}; });
  vary([](Case& c) { c.pad = {0, 1}; });
  vary([](Case& c) { c.adj = {1, 0}; });
  vary([](Case& c) { c.target = {12, 0}; });
  vary([](Case& c) { c.G = 1; c.Cg = 4; c.Fg = 6; });
  vary([](Case& c) { c.Fg = 1; });
  vary([](Case& c) { c.kernel = {3, 2}; });
  vary([](Case& c) { c.bias = false; });
  vary([](Case& c) { c.workspace = 0; });
  vary([](Case& c) { c.layout = Layout::NHWC; });
  for (int m : {0, 2, 3}) {
    for (size_t i = 0; i < variants.size(); ++i) {
      SCOPED_TRACE("variant " + std::to_string(i));
      check_gpu(variants[i], kModes[m], 42 + i);
      check_gpu(base, kModes[m], 41);
    }
  }
}

TEST(DeconvGpu, BackwardSubsetsOfGradients) {
  // Any of data_grad / weight_grad / bias_grad may be null (executors ask only for what
  // they need): the others stay correct, the buffers not asked for untouched.
  SKIP_WITHOUT_DEVICE();
  for (const Mode& m : kModes) {
    for (Layout l : {Layout::NCHW, Layout::NHWC}) {
      const Case c =
          make_case(l, 3, 2, 2, 3, {5, 6}, {3, 2}, {2, 2}, {1, 2}, {1, 0}, {1, 0}, true);
      SCOPED_TRACE(c.str() + ", mode " + m.name);
      const Geometry g = geometry_for(c, m);
      const Inputs in = random_inputs(g, 43);
      const Results want = cpu_results(g, in, true);
      const Context gpu = gpu_context();
      const RunOptions opts;
      check_gradient_subsets(gpu, g, in.dy, in.x, in.w, want.dx, want.dw, want.db, opts);
    }
  }
}

// ---- workspace and size --------------------------------------------------------------------

TEST(DeconvGpu, TinyWorkspaceCudnnOffChunks) {
  // deconv's own kernels with workspace = 1 MB on cases whose full column buffer is many
  // MB: the work is done in several chunks and must match the CPU (and the unchunked GPU
  // run). Fg*K = 32*16 values per input position, 4096 positions per sample: 16 MiB in
  // double per sample. 3D: Fg*K = 8*27, 4096 positions: 7 MiB per sample.
  SKIP_WITHOUT_DEVICE();
  const Mode off = kModes[4];
  ASSERT_TRUE(off.cudnn_off);
  std::vector<Case> cases;
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    cases.push_back(
        make_case(l, 4, 1, 16, 32, {64, 64}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, true, 1));
  }
  cases.push_back(make_case(Layout::NDHWC, 2, 2, 4, 8, {16, 16, 16}, {3, 3, 3}, {2, 1, 2},
                            {1, 1, 1}, {1, 1, 1}, {1, 0, 0}, true, 1));
  for (const Case& c : cases) {
    check_gpu(c, off, 44);
    // limited_workspace with the same 1 MB bound must find an algorithm that fits.
    check_gpu(c, kModes[2], 45);
  }
}

TEST(DeconvGpu, DcganLayer) {
  // A larger layer, as DCGAN's generator has: 256 -> 128 channels, 8x8 -> 16x16.
  SKIP_WITHOUT_DEVICE();
  for (Layout l : {Layout::NCHW, Layout::NHWC}) {
    const Case c =
        make_case(l, 16, 1, 256, 128, {8, 8}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, true);
    SCOPED_TRACE(c.str());
    const Inputs in = random_inputs(geometry_for(c, kModes[0]), 46);
    Results want;
    bool have_want = false;
    for (int m : {0, 3, 4}) {
      SCOPED_TRACE(kModes[m].name);
      const Geometry g = geometry_for(c, kModes[m]);
      if (!have_want) {
        want = cpu_results(g, in, true);
        have_want = true;
      }
      check_gpu_as<double>(g, in, want, true);
      check_gpu_as<float>(g, in, want, true);
    }
  }
}

TEST(DeconvGpu, EveryDevice) {
  // A small case on each device the machine has (device numbers are honoured).
  SKIP_WITHOUT_DEVICE();
  const Case c =
      make_case(Layout::NCHW, 2, 1, 3, 2, {5, 4}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 0}, true);
  for (int d = 0; d < cuda::device_count(); ++d) {
    EXPECT_NO_THROW(cuda::require_device(d));
    check_gpu(c, kModes[0], 47, d);
    check_gpu(c, kModes[4], 47, d);
  }
}

// ---- build information and device numbers (every machine) ---------------------------------

TEST(DeconvGpuDevice, RequireDeviceOutOfRange) {
  const int n = cuda::device_count();
  EXPECT_GE(n, 0);
  EXPECT_DECONV_ERROR(UnsupportedError, cuda::require_device(n), "ctx", "");
  EXPECT_DECONV_ERROR(UnsupportedError, cuda::require_device(n + 7), "ctx", "");
  // Through the dispatch: refused before anything is written.
  const Case c =
      make_case(Layout::NCHW, 1, 1, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true);
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  std::vector<float> x(element_count(g.data_shape), 1), w(element_count(g.weight_shape), 1), b(g.num_filter, 1),
      y(element_count(g.out_shape), -7);
  EXPECT_DECONV_ERROR(UnsupportedError,
                      deconvolution_forward<float>(gpu_context(n), g, x.data(), w.data(),
                                                   b.data(), y.data(), RunOptions()),
                      "ctx", "");
  EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return v == -7; }));
}

TEST(DeconvGpuDevice, BuildInfoIsConsistent) {
  const cuda::BuildInfo info = cuda::build_info();
  const int n = cuda::device_count();
  EXPECT_EQ(static_cast<int>(info.devices.size()), n);
  for (const std::string& d : info.devices) EXPECT_FALSE(d.empty());
  const std::regex version("^[0-9]+\\.[0-9]+.*");
  if (!cuda::compiled_with_cuda()) {
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(info.cuda_compiled.empty());
    EXPECT_TRUE(info.cudnn_compiled.empty());
  } else {
    EXPECT_TRUE(std::regex_match(info.cuda_compiled, version)) << info.cuda_compiled;
    if (!info.cudnn_compiled.empty()) {
      EXPECT_TRUE(std::regex_match(info.cudnn_compiled, version)) << info.cudnn_compiled;
    }
    if (n > 0) {
      EXPECT_TRUE(std::regex_match(info.cuda_driver, version)) << info.cuda_driver;
      EXPECT_TRUE(std::regex_match(info.cuda_runtime, version)) << info.cuda_runtime;
    }
  }
}

}  // namespace
