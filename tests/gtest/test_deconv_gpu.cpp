// Tests of the GPU path (src/core/cuda) through the dispatch (src/core/dispatch.h): forward
// and all three gradients computed on the GPU against the CPU kernels (which
// test_deconv_cpu.cpp checks against a direct-loop reference) on seeded random cases from
// random_cases.h and on targeted cases, for each way the GPU may pick its algorithm:
// cudnn_tune None / Off / LimitedWorkspace / Fastest, and cudnn_off (deconv's own kernels).
// Float and double; tolerance relative to the largest reference value, 1e-4 / 1e-10.
//
// Environment (tools/gpu_check.sh sets both): DECONV_GPU_SCALE multiplies the number of
// random cases per mode (default 1: 60 each; never fewer than 5); DECONV_GPU_ERRORS names
// a file that receives, at the end of the run, the largest relative GPU-vs-CPU error seen
// per mode, type and result (tab-separated; the same lines go to stdout prefixed by
// GPU_MAX_REL_ERROR).
//
// Built only in the CUDA configuration of tests/gtest. Every test that needs a device skips
// when deconv::cuda::device_count() is 0; the tests of the build information and of device
// numbers out of range run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/device_array.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"
#include "random_cases.h"
#include "test_helpers.h"

using namespace deconv;
using namespace deconv_test;  // Case, make_case, random_case, close, exact, poisoned, ...

namespace {

// DECONV_GPU_TESTS_ON_CPU (cmake -DDECONV_GPU_DRYRUN=ON: test_deconv_gpu_dryrun) runs the
// suite's logic with the CPU standing in for the GPU, so that a machine without a device
// can check the tests themselves; the tests that need real device memory skip there.
#ifdef DECONV_GPU_TESTS_ON_CPU
#define SKIP_WITHOUT_DEVICE() \
  do {                        \
  } while (0)
#define SKIP_IN_DRYRUN() GTEST_SKIP() << "dry run: the CPU stands in for the GPU"
#else
#define SKIP_WITHOUT_DEVICE()                                   \
  do {                                                          \
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device"; \
  } while (0)
#define SKIP_IN_DRYRUN() \
  do {                   \
  } while (0)
#endif

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

// The mode a geometry runs in, by name (for the error report).
const char* mode_name(const Geometry& g) {
  for (const Mode& m : kModes)
    if (m.cudnn_off == g.cudnn_off && (m.cudnn_off || m.tune == g.cudnn_tune)) return m.name;
  return "unknown";
}

// ---- the largest GPU-vs-CPU errors, per mode, type and result -----------------------------

// Relative error as close() measures it: max|gpu - cpu| / max|cpu| (infinite when a value
// is not finite). Every comparison of check_gpu_as is recorded; ErrorReport writes them out.
struct ErrorStat {
  double worst = 0;
  int64_t checks = 0;
  std::string where;  // the test and case of the worst one
};
using ErrorKey = std::tuple<std::string, std::string, std::string>;  // mode, dtype, result
std::mutex error_mutex;
std::map<ErrorKey, ErrorStat> errors;
std::string current_case;  // set by check_gpu: which case the next comparisons belong to

template <typename T>
void record_error(const Geometry& g, const char* result, const std::vector<T>& got,
                  const std::vector<double>& ref) {
  double scale = 0, worst = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    const double v = static_cast<double>(got[i]);
    worst = std::isfinite(v) ? std::max(worst, std::abs(v - ref[i]))
                             : std::numeric_limits<double>::infinity();
  }
  if (got.size() != ref.size()) worst = std::numeric_limits<double>::infinity();
  const double rel = scale > 0 ? worst / scale : worst;
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::lock_guard<std::mutex> lock(error_mutex);
  ErrorStat& e = errors[ErrorKey(mode_name(g), std::is_same<T, float>::value ? "float" : "double",
                                 result)];
  ++e.checks;
  if (rel > e.worst || e.checks == 1) {
    e.worst = rel;
    e.where = std::string(test ? test->test_suite_name() : "?") + "." +
              (test ? test->name() : "?") + ": " + current_case;
  }
}

// Rewrites the report file after every test (so a run that dies or is cut off still
// leaves what it measured) and prints the lines once at the end.
class ErrorReport : public ::testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const ::testing::TestInfo&) override { write(false); }
  void OnTestProgramEnd(const ::testing::UnitTest&) override { write(true); }

 private:
  static void write(bool print) {
    std::lock_guard<std::mutex> lock(error_mutex);
    const char* file = std::getenv("DECONV_GPU_ERRORS");
    std::ofstream out;
    if (file && *file) {
      out.open(file);
      out << "mode\tdtype\tresult\tmax_rel_error\ttolerance\tchecks\tworst_case\n";
    }
    for (const auto& kv : errors) {
      const std::string& dtype = std::get<1>(kv.first);
      const double tol = dtype == "float" ? tolerance<float>() : tolerance<double>();
      char line[512];
      std::snprintf(line, sizeof line, "%s\t%s\t%s\t%.3g\t%.0e\t%lld", std::get<0>(kv.first).c_str(),
                    dtype.c_str(), std::get<2>(kv.first).c_str(), kv.second.worst, tol,
                    static_cast<long long>(kv.second.checks));
      if (print) std::printf("GPU_MAX_REL_ERROR\t%s\n", line);
      if (out.is_open()) out << line << "\t" << kv.second.where << "\n";
    }
    if (print) std::fflush(stdout);
  }
};
// Registered before gtest's main runs the tests (the listener list takes ownership).
[[maybe_unused]] const bool error_report_registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new ErrorReport);
  return true;
}();

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
#ifdef DECONV_GPU_TESTS_ON_CPU
  c.device = Device::CPU;
#else
  c.device = Device::GPU;
#endif
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
  record_error(g, "out", y, want.y);
  EXPECT_TRUE(close("out", y, want.y));

  auto gx = poisoned<T>(element_count(g.data_shape)), gw = poisoned<T>(element_count(g.weight_shape)),
       gb = poisoned<T>(g.num_filter);
  deconvolution_backward<T>(gpu, g, dy.data(), x.data(), w.data(), gx.data(), gw.data(),
                            bias ? gb.data() : nullptr, opts);
  record_error(g, "data_grad", gx, want.dx);
  record_error(g, "weight_grad", gw, want.dw);
  EXPECT_TRUE(close("data_grad", gx, want.dx));
  EXPECT_TRUE(close("weight_grad", gw, want.dw));
  if (bias) {
    record_error(g, "bias_grad", gb, want.db);
    EXPECT_TRUE(close("bias_grad", gb, want.db));
  } else {
    EXPECT_TRUE(std::all_of(gb.begin(), gb.end(), [](T v) { return std::isnan(v); }))
        << "bias_grad written although there is no bias";
  }
}

// Case `c` in mode `m`, float and double, against the CPU.
void check_gpu(const Case& c, const Mode& m, uint64_t seed, int device = 0) {
  SCOPED_TRACE(c.str() + ", mode " + m.name + ", device " + std::to_string(device));
  current_case = c.str();
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

// Mode i runs the generator's cases kFirstCase + i * kModeStride + [0, cases_per_mode()):
// cases the CPU suite does not draw (it uses 0..299), every layout equally often, and a
// larger DECONV_GPU_SCALE only adds cases to each mode's list.
constexpr int kBaseCasesPerMode = 60;
constexpr int kFirstCase = 10000;
constexpr int kModeStride = 100000;

// 60 x DECONV_GPU_SCALE, a multiple of 5 (the layouts), at least 5 and at most kModeStride.
int cases_per_mode() {
  static const int n = [] {
    const char* s = std::getenv("DECONV_GPU_SCALE");
    double scale = s && *s ? std::atof(s) : 1.0;
    if (!(scale > 0)) scale = 1.0;
    const double want = std::min(kBaseCasesPerMode * scale, double(kModeStride));
    return std::max(5, static_cast<int>(std::lround(want / 5)) * 5);
  }();
  return n;
}

int case_index(int mode, int i) { return kFirstCase + mode * kModeStride + i; }

class GpuRandomCase : public ::testing::TestWithParam<int> {};

TEST_P(GpuRandomCase, MatchesCpu) {
  SKIP_WITHOUT_DEVICE();
  const int mode = GetParam();
  for (int i = 0; i < cases_per_mode(); ++i) {
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
  const int n = cases_per_mode();
  if (n < kBaseCasesPerMode) {
    GTEST_SKIP() << "DECONV_GPU_SCALE < 1: " << n << " cases per mode, too few to promise "
                 << "every feature";
  }
  for (int mode = 0; mode < kNumModes; ++mode) {
    SCOPED_TRACE(kModes[mode].name);
    int layouts[6] = {0}, depthwise = 0, grouped = 0, dilated = 0, padded = 0, adjusted = 0,
        target = 0, bias = 0, no_bias = 0, tiny_ws = 0, default_layout = 0;
    for (int i = 0; i < n; ++i) {
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
    for (int l = 1; l <= 5; ++l) EXPECT_EQ(layouts[l], n / 5) << l;
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
    current_case = c.str();
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

TEST(DeconvGpu, WorkspaceLargerThanTheDevice) {
  // workspace = 1 TiB, beyond any device: a mode may take as much as it needs, but must
  // never try to allocate the bound itself (cuDNN's trials, the cudnn_off chunk plan).
  SKIP_WITHOUT_DEVICE();
  const int64_t tib = int64_t{1} << 20;  // MB
  check_gpu_all_modes(make_case(Layout::NCHW, 4, 1, 16, 8, {16, 16}, {4, 4}, {2, 2}, {1, 1},
                                {1, 1}, {0, 0}, true, tib),
                      48);
  check_gpu_all_modes(make_case(Layout::NDHWC, 2, 2, 3, 2, {5, 4, 6}, {3, 3, 2}, {2, 1, 2},
                                {1, 2, 1}, {1, 1, 0}, {1, 0, 1}, false, tib),
                      49);
}

// ---- interrupts --------------------------------------------------------------------------

// Forward or backward (all gradients) of `g` on the GPU in double with `opts`; the results
// go to `r` (sized here).
void gpu_pass(const Geometry& g, const Inputs& in, bool backward, bool bias,
              const RunOptions& opts, Results& r) {
  const Context gpu = gpu_context();
  if (!backward) {
    r.y = poisoned<double>(element_count(g.out_shape));
    deconvolution_forward<double>(gpu, g, in.x.data(), in.w.data(),
                                  bias ? in.b.data() : nullptr, r.y.data(), opts);
  } else {
    r.dx = poisoned<double>(element_count(g.data_shape));
    r.dw = poisoned<double>(element_count(g.weight_shape));
    r.db = poisoned<double>(g.num_filter);
    deconvolution_backward<double>(gpu, g, in.dy.data(), in.x.data(), in.w.data(), r.dx.data(),
                                   r.dw.data(), bias ? r.db.data() : nullptr, opts);
  }
}

void expect_results(const Results& got, const Results& want, bool backward, bool bias) {
  if (!backward) {
    EXPECT_TRUE(close("out", got.y, want.y));
  } else {
    EXPECT_TRUE(close("data_grad", got.dx, want.dx));
    EXPECT_TRUE(close("weight_grad", got.dw, want.dw));
    if (bias) {
      EXPECT_TRUE(close("bias_grad", got.db, want.db));
    }
  }
}

TEST(DeconvGpuInterrupts, EveryPollStopsTheCallAndLeavesTheDeviceUsable) {
  // The callback is polled at fixed points (before the copies, before each algorithm
  // choice and library call, at the end). Interrupting at each of them in turn: the call
  // throws Interrupted at once (no further poll), and a following uninterrupted call on
  // the same device is still right (no pending device error, no half-made cache entry,
  // no leaked workspace that a later allocation would trip on).
  SKIP_WITHOUT_DEVICE();
  std::vector<Case> cases;
  cases.push_back(
      make_case(Layout::NHWC, 3, 2, 3, 2, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 0}, true));
  Case c3 = make_case(Layout::NCDHW, 2, 1, 3, 2, {3, 4, 5}, {3, 2, 3}, {1, 2, 1}, {1, 1, 2},
                      {}, {}, true);
  c3.target = {4, 8, 9};
  cases.push_back(c3);
  // Several chunks of deconv's own kernels (1 MB workspace).
  cases.push_back(
      make_case(Layout::NCHW, 4, 1, 16, 32, {48, 48}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, true, 1));
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    for (const Mode& m : kModes) {
      SCOPED_TRACE(c.str() + ", mode " + m.name);
      const Geometry g = geometry_for(c, m);
      const Inputs in = random_inputs(g, 60 + ci);
      const Results want = cpu_results(g, in, c.bias);
      for (bool backward : {false, true}) {
        SCOPED_TRACE(backward ? "backward" : "forward");
        int polls = 0;
        RunOptions counting;
        counting.interrupted = [&] {
          ++polls;
          return false;
        };
        Results got;
        ASSERT_NO_THROW(gpu_pass(g, in, backward, c.bias, counting, got));
        expect_results(got, want, backward, c.bias);
#ifdef DECONV_GPU_TESTS_ON_CPU
        // The CPU polls by the clock, not at fixed points: only its first poll is sure.
        polls = 1;
#else
        EXPECT_GE(polls, 2);  // before the copies in, after the copies out, and between
#endif
        for (int k = 1; k <= polls; ++k) {
          SCOPED_TRACE("interrupt at poll " + std::to_string(k) + " of " + std::to_string(polls));
          int n = 0;
          RunOptions stop_at;
          stop_at.interrupted = [&] { return ++n >= k; };
          EXPECT_THROW(gpu_pass(g, in, backward, c.bias, stop_at, got), Interrupted);
          EXPECT_EQ(n, k) << "polled again after the interrupt";
          Results again;
          ASSERT_NO_THROW(gpu_pass(g, in, backward, c.bias, RunOptions(), again));
          expect_results(again, want, backward, c.bias);
        }
      }
    }
  }
}

// ---- arrays that stay on the device (the executors' path) ---------------------------------

template <typename T>
std::vector<T> downloaded(const DeviceArray& a) {
  std::vector<double> h(static_cast<size_t>(a.size));
  device_download(a, h.data());
  return as<T>(h);
}

template <typename T>
void check_device_arrays(const Case& c, const Mode& m, uint64_t seed) {
  SCOPED_TRACE(c.str() + ", mode " + m.name + (std::is_same<T, float>::value ? ", float" : ", double"));
  const bool f32 = std::is_same<T, float>::value;
  const Geometry g = geometry_for(c, m);
  const Inputs in = random_inputs(g, seed);
  const Results want = cpu_results(g, in, c.bias);
  const int64_t nx = element_count(g.data_shape), nw = element_count(g.weight_shape),
                ny = element_count(g.out_shape);
  const DeviceArray x = device_upload(0, in.x.data(), nx, f32),
                          w = device_upload(0, in.w.data(), nw, f32),
                          b = device_upload(0, in.b.data(), g.num_filter, f32),
                          dy = device_upload(0, in.dy.data(), ny, f32);
  const DeviceArray y = device_alloc(0, ny, f32), dx = device_alloc(0, nx, f32),
                          dw = device_alloc(0, nw, f32),
                          db = device_alloc(0, g.num_filter, f32);
  const RunOptions opts;
  cuda::forward_on_device<T>(0, g, x.data<T>(), w.data<T>(), c.bias ? b.data<T>() : nullptr,
                             y.data<T>(), opts);
  cuda::backward_on_device<T>(0, g, dy.data<T>(), x.data<T>(), w.data<T>(), dx.data<T>(),
                              dw.data<T>(), c.bias ? db.data<T>() : nullptr, opts);
  EXPECT_TRUE(close("out", downloaded<T>(y), want.y));
  EXPECT_TRUE(close("data_grad", downloaded<T>(dx), want.dx));
  EXPECT_TRUE(close("weight_grad", downloaded<T>(dw), want.dw));
  if (c.bias) {
    EXPECT_TRUE(close("bias_grad", downloaded<T>(db), want.db));
  }
  // grad.req = "add": a second backward's gradient added onto the first.
  const DeviceArray acc = device_alloc(0, nw, f32);
  cuda::backward_on_device<T>(0, g, dy.data<T>(), x.data<T>(), w.data<T>(), nullptr,
                              acc.data<T>(), nullptr, opts);
  device_accumulate(acc, dw);
  std::vector<double> twice(want.dw);
  for (double& v : twice) v *= 2;
  EXPECT_TRUE(close("weight_grad accumulated", downloaded<T>(acc), twice));
}

TEST(DeconvGpuDeviceArrays, PassesOnDeviceMemoryMatchCpu) {
  SKIP_IN_DRYRUN();
  SKIP_WITHOUT_DEVICE();
  Case c3 = make_case(Layout::NDHWC, 2, 2, 2, 3, {3, 4, 3}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1},
                      {0, 1, 0}, {1, 0, 1}, true);
  const Case cases[] = {
      make_case(Layout::NHWC, 2, 1, 3, 4, {6, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 0}, true),
      make_case(Layout::NCW, 3, 3, 1, 2, {9}, {4}, {3}, {2}, {2}, {1}, false), c3};
  for (const Case& c : cases) {
    for (int m : {0, 3, 4}) {
      check_device_arrays<double>(c, kModes[m], 50);
      check_device_arrays<float>(c, kModes[m], 50);
    }
  }
  EXPECT_DECONV_ERROR(ShapeError, device_accumulate(device_alloc(0, 3, true),
                                                          device_alloc(0, 4, true)),
                      "grad", "");
}

// ---- build information and device numbers (every machine) ---------------------------------

TEST(DeconvGpuDevice, RequireDeviceOutOfRange) {
  SKIP_IN_DRYRUN();
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
