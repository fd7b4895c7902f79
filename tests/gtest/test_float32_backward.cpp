// float32 gradients on double arrays (dispatch's deconvolution_backward_float32, that is
// cpu::backward_float_on_double): the GEMM path converts dY in im2col and X and dX as it
// packs them, tiles included; the direct gradients convert as they split dY, pad X and
// store dX (dW is widened after); channels-last layers and the depthwise direct path run on float copies. All
// against the direct-loop reference in float precision, on every path, 1 to 3 threads,
// each subset of the gradients, with the results floats (as a float32 call's must be).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"
#include "reference.h"

using namespace deconv;
using namespace deconv_test;

namespace {

bool all_floats(const std::vector<double>& v) {
  for (double e : v)
    if (static_cast<double>(static_cast<float>(e)) != e) return false;
  return true;
}

void check(const Case& c, CpuPath path, int threads, int mask = 7) {
  SCOPED_TRACE(c.str() + " float32 on doubles, threads " + std::to_string(threads) +
               ", mask " + std::to_string(mask));
  const Geometry g = infer_geometry(c.params(), c.data_shape());
  const Ref r(c);
  const Inputs raw = random_inputs(r, 13 + threads);
  // Inputs that are floats already, so the reference sees what the kernel computes on.
  const auto x = exact<float>(raw.x), w = exact<float>(raw.w), dy = exact<float>(raw.dy);
  std::vector<double> dx, dw, db;
  r.backward(dy, x, w, dx, dw, db);
  auto gx = poisoned<double>(r.data_size()), gw = poisoned<double>(r.weight_size()),
       gb = poisoned<double>(r.F);
  const RunOptions opts = path_options(path, threads);
  const bool bias = c.bias && (mask & 4);
  deconvolution_backward_float32(Context{}, g, dy.data(), x.data(), w.data(),
                                 (mask & 1) ? gx.data() : nullptr,
                                 (mask & 2) ? gw.data() : nullptr, bias ? gb.data() : nullptr,
                                 opts, nullptr);
  if (mask & 1) {
    EXPECT_TRUE(close("data_grad", as<float>(gx), dx));
    EXPECT_TRUE(all_floats(gx));
  }
  if (mask & 2) {
    EXPECT_TRUE(close("weight_grad", as<float>(gw), dw));
    EXPECT_TRUE(all_floats(gw));
  }
  if (bias) {
    EXPECT_TRUE(close("bias_grad", as<float>(gb), db));
    EXPECT_TRUE(all_floats(gb));
  }
}

}  // namespace

TEST(Float32Backward, RandomCasesOnEveryPath) {
  for (int i = 0; i < 150; ++i) {
    const Case c = random_case(i);
    for (CpuPath path : {CpuPath::Gemm, CpuPath::Phase, CpuPath::Auto})
      for (int t : {1, 2, 3}) check(c, path, t);
    if (HasFailure()) break;  // one case's report is enough
  }
}

TEST(Float32Backward, SubsetsOfGradients) {
  for (int i = 0; i < 40; ++i) {
    const Case c = random_case(i);
    for (int mask = 1; mask < 8; ++mask) {
      check(c, CpuPath::Gemm, 2, mask);
      check(c, CpuPath::Auto, 1, mask);
      check(c, CpuPath::Phase, 3, mask);
    }
    if (HasFailure()) break;
  }
}

TEST(Float32Backward, TiledSamplesAndGroups) {
  // A tiny workspace: one sample's positions in several tiles, packed and converted.
  Case c = targeted(Layout::NCHW, 3, 2, 5, 3, {23, 9}, {4, 3}, {2, 2}, {1, 1}, {1, 0});
  c.workspace = 0;
  for (int t : {1, 2, 3}) check(c, CpuPath::Gemm, t);
  check(targeted(Layout::NCDHW, 2, 1, 4, 3, {5, 4, 6}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1},
                 {0, 0, 0}),
        CpuPath::Gemm, 2);
  check(targeted(Layout::NHWC, 2, 2, 3, 2, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}),
        CpuPath::Gemm, 2);
  check(targeted(Layout::NCHW, 2, 4, 1, 1, {9, 8}, {4, 4}, {2, 2}, {1, 1}, {1, 1}),
        CpuPath::Auto, 1);  // depthwise: the direct path, on float copies
}
