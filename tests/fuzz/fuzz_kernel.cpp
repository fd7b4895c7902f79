// Fuzz target: small geometries (bounded so that a run takes well under a millisecond)
// through the CPU dispatch, forward and backward with a fuzzed subset of the gradients,
// in double and float, compared with the direct-loop reference of tests/gtest/reference.h
// (relative tolerance 1e-10 in double, 1e-4 in float); gradients not asked for must stay
// untouched. The GEMM backend is the process's choice (DECONV_GEMM picks one).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "check.h"
#include "core/error.h"
#include "reference.h"

namespace {

using deconv::Layout;
using deconv_fuzz::ByteReader;
using deconv_fuzz::fail;
using deconv_test::Case;
using deconv_test::Inputs;
using deconv_test::Ref;

Case draw_case(ByteReader& in) {
  static const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                                   Layout::NDHWC};
  Case c;
  c.layout = layouts[in.range(0, 4)];
  c.rank = deconv::layout_rank(c.layout);
  c.layout_given = deconv::layout_channels_last(c.layout) || in.flag();
  c.N = in.range(1, 2);
  c.G = in.range(1, 3);
  c.Cg = in.range(1, 3);
  c.Fg = in.range(1, 3);
  const int64_t max_in = c.rank == 1 ? 9 : c.rank == 2 ? 5 : 3;
  const int64_t max_k = c.rank == 3 ? 3 : 4;
  const bool use_target = in.byte() % 4 == 0;
  for (int i = 0; i < c.rank; ++i) {
    const int64_t n = in.range(1, max_in), k = in.range(1, max_k), s = in.range(1, 3),
                  d = in.range(1, 3);
    c.in.push_back(n);
    c.kernel.push_back(k);
    c.stride.push_back(s);
    c.dilate.push_back(d);
    c.pad.push_back(in.range(0, 4));
    c.adj.push_back(in.range(0, s));  // adj == stride: rejected, as it should be
    const int64_t full = s * (n - 1) + d * (k - 1) + 1;
    c.target.push_back(use_target && in.flag() ? in.range(1, full) : 0);
  }
  if (!use_target) c.target.clear();
  c.bias = in.flag();
  static const int64_t workspaces[] = {0, 1, 512, 0};  // 0: one input position per tile
  c.workspace = workspaces[in.range(0, 3)];
  return c;
}

template <typename T>
void run_type(const Case& c, const deconv::Geometry& g, const Ref& r, const Inputs& raw,
              int threads, int mask) {
  const char* type = std::is_same<T, double>::value ? "double" : "float";
  auto report = [&](const ::testing::AssertionResult& ok) {
    if (!ok)
      fail(std::string(type) + ", threads " + std::to_string(threads) + ", mask " +
           std::to_string(mask) + ": " + ok.message() + "\ncase: " + c.str());
  };
  const auto x = deconv_test::exact<T>(raw.x), w = deconv_test::exact<T>(raw.w),
             b = deconv_test::exact<T>(raw.b), dy = deconv_test::exact<T>(raw.dy);
  const auto xt = deconv_test::as<T>(x), wt = deconv_test::as<T>(w),
             bt = deconv_test::as<T>(b), dyt = deconv_test::as<T>(dy);
  const deconv::Context cpu;
  deconv::RunOptions opts;
  opts.threads = threads;

  auto y = deconv_test::poisoned<T>(r.out_size());
  deconv::deconvolution_forward<T>(cpu, g, xt.data(), wt.data(), c.bias ? bt.data() : nullptr,
                                   y.data(), opts);
  report(deconv_test::close("out", y, r.forward(x, w, c.bias ? &b : nullptr)));

  std::vector<double> dx, dw, db;
  r.backward(dy, x, w, dx, dw, db);
  auto gx = deconv_test::poisoned<T>(r.data_size()), gw = deconv_test::poisoned<T>(r.weight_size()),
       gb = deconv_test::poisoned<T>(r.F);
  deconv::deconvolution_backward<T>(cpu, g, dyt.data(), xt.data(), wt.data(),
                                    (mask & 1) ? gx.data() : nullptr,
                                    (mask & 2) ? gw.data() : nullptr,
                                    (mask & 4) && c.bias ? gb.data() : nullptr, opts);
  auto untouched = [&](const char* what, const std::vector<T>& v) {
    for (T e : v)
      if (!std::isnan(e)) report(::testing::AssertionFailure() << what << " written, not asked for");
  };
  if (mask & 1) report(deconv_test::close("data_grad", gx, dx)); else untouched("data_grad", gx);
  if (mask & 2) report(deconv_test::close("weight_grad", gw, dw)); else untouched("weight_grad", gw);
  if ((mask & 4) && c.bias) report(deconv_test::close("bias_grad", gb, db));
  else untouched("bias_grad", gb);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  const Case c = draw_case(in);
  const int threads = static_cast<int>(in.range(1, 2));
  const int mask = static_cast<int>(in.range(0, 7));
  const uint64_t seed = in.byte() * 256u + in.byte();
  deconv::Geometry g;
  try {
    g = deconv::infer_geometry(c.params(), c.data_shape());
  } catch (const deconv::Error&) {
    return 0;  // e.g. a pad that leaves no output: the shape tests cover the rules
  }
  const Ref r(c);
  if (r.out_shape != g.out_shape) fail("reference and infer_geometry disagree on the output shape: " + c.str());
  const Inputs raw = deconv_test::random_inputs(r, seed);
  run_type<double>(c, g, r, raw, threads, mask);
  run_type<float>(c, g, r, raw, threads, mask);
  return 0;
}
