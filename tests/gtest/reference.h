// The direct-loop reference for the CPU kernel tests (test_deconv_cpu.cpp and
// test_deconv_cpu_paths.cpp): a transposed convolution written out from its definition,
// independent of the kernels and of shape.cpp, and check_case, which runs a case through
// the dispatch and compares forward and all gradients with it.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "core/run_options.h"
#include "core/shape.h"
#include "random_cases.h"
#include "test_helpers.h"

namespace deconv_test {

using deconv::Context;
using deconv::Geometry;
using deconv::RunOptions;
using deconv::RunStats;

// Sizes padded to 3 spatial dimensions (d, h, w), with pad/adj resolved from the case's
// own target_shape independently of shape.cpp.
struct Ref {
  bool last = false;
  int64_t N = 0, C = 0, F = 0, G = 1, Cg = 0, Fg = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, s{1, 1, 1}, d{1, 1, 1},
      p{0, 0, 0};
  Shape out_shape;

  explicit Ref(const Case& c) {
    last = layout_channels_last(c.layout);
    N = c.N;
    G = c.G;
    Cg = c.Cg;
    Fg = c.Fg;
    C = c.C();
    F = c.F();
    const int off = 3 - c.rank;
    bool target = false;
    for (int64_t t : c.target) target |= t != 0;
    for (int i = 0; i < c.rank; ++i) {
      const int j = off + i;
      in[j] = c.in[i];
      k[j] = c.kernel[i];
      s[j] = c.stride.empty() ? 1 : c.stride[i];
      d[j] = c.dilate.empty() ? 1 : c.dilate[i];
      int64_t pad = c.pad.empty() ? 0 : c.pad[i];
      int64_t adj = c.adj.empty() ? 0 : c.adj[i];
      if (target && c.target[i] != 0) {
        const auto pa = deconv_test::target_pad_adj(in[j], k[j], s[j], d[j], c.target[i]);
        pad = pa.pad;
        adj = pa.adj;
      }
      p[j] = pad;
      out[j] = deconv_test::expected_out(in[j], k[j], s[j], d[j], pad, adj);
    }
    out_shape = {N};
    if (!last) out_shape.push_back(F);
    for (int i = 0; i < c.rank; ++i) out_shape.push_back(out[off + i]);
    if (last) out_shape.push_back(F);
  }

  int64_t data_size() const { return N * C * in[0] * in[1] * in[2]; }
  int64_t out_size() const { return N * F * out[0] * out[1] * out[2]; }
  int64_t weight_size() const { return C * Fg * k[0] * k[1] * k[2]; }

  // Element offsets in the dense row-major tensors.
  int64_t x_at(int64_t n, int64_t c, int64_t z, int64_t y, int64_t x) const {
    return last ? (((n * in[0] + z) * in[1] + y) * in[2] + x) * C + c
                : (((n * C + c) * in[0] + z) * in[1] + y) * in[2] + x;
  }
  int64_t y_at(int64_t n, int64_t f, int64_t z, int64_t y, int64_t x) const {
    return last ? (((n * out[0] + z) * out[1] + y) * out[2] + x) * F + f
                : (((n * F + f) * out[0] + z) * out[1] + y) * out[2] + x;
  }
  int64_t w_at(int64_t c, int64_t f, int64_t z, int64_t y, int64_t x) const {  // f in group
    return last ? (((c * k[0] + z) * k[1] + y) * k[2] + x) * Fg + f
                : (((c * Fg + f) * k[0] + z) * k[1] + y) * k[2] + x;
  }

  // Visits every (data element, weight element, output element) triple that a transposed
  // convolution multiplies: output position o = i*stride - pad + k*dilate per dimension.
  template <class Fn>
  void for_each_term(Fn&& fn) const {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < G; ++g)
        for (int64_t cl = 0; cl < Cg; ++cl)
          for (int64_t fl = 0; fl < Fg; ++fl) {
            const int64_t c = g * Cg + cl, f = g * Fg + fl;
            for (int64_t iz = 0; iz < in[0]; ++iz)
              for (int64_t iy = 0; iy < in[1]; ++iy)
                for (int64_t ix = 0; ix < in[2]; ++ix)
                  for (int64_t kz = 0; kz < k[0]; ++kz) {
                    const int64_t oz = iz * s[0] - p[0] + kz * d[0];
                    if (oz < 0 || oz >= out[0]) continue;
                    for (int64_t ky = 0; ky < k[1]; ++ky) {
                      const int64_t oy = iy * s[1] - p[1] + ky * d[1];
                      if (oy < 0 || oy >= out[1]) continue;
                      for (int64_t kx = 0; kx < k[2]; ++kx) {
                        const int64_t ox = ix * s[2] - p[2] + kx * d[2];
                        if (ox < 0 || ox >= out[2]) continue;
                        fn(x_at(n, c, iz, iy, ix), w_at(c, fl, kz, ky, kx),
                           y_at(n, f, oz, oy, ox));
                      }
                    }
                  }
          }
  }

  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>* b) const {
    std::vector<double> y(out_size(), 0.0);
    for_each_term([&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
    if (b) {
      for (int64_t i = 0; i < out_size(); ++i) {
        const int64_t f = last ? i % F : (i / (out[0] * out[1] * out[2])) % F;
        y[i] += (*b)[f];
      }
    }
    return y;
  }

  void backward(const std::vector<double>& dy, const std::vector<double>& x,
                const std::vector<double>& w, std::vector<double>& dx, std::vector<double>& dw,
                std::vector<double>& db) const {
    dx.assign(data_size(), 0.0);
    dw.assign(weight_size(), 0.0);
    db.assign(F, 0.0);
    for_each_term([&](int64_t xi, int64_t wi, int64_t yi) {
      dx[xi] += dy[yi] * w[wi];
      dw[wi] += x[xi] * dy[yi];
    });
    for (int64_t i = 0; i < out_size(); ++i) {
      const int64_t f = last ? i % F : (i / (out[0] * out[1] * out[2])) % F;
      db[f] += dy[i];
    }
  }
};

struct Inputs {
  std::vector<double> x, w, b, dy;
};

inline Inputs random_inputs(const Ref& r, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.x = random_values(r.data_size(), rng);
  in.w = random_values(r.weight_size(), rng);
  in.b = random_values(r.F, rng);
  in.dy = random_values(r.out_size(), rng);
  return in;
}

// Runs the backward of r's case in type T with `opts` for the gradients in `mask` (bits:
// 1 data, 2 weight, 4 bias) and compares each with the reference; the run's stats go
// to `stats` when given (callers preset the flags the run must set).
template <typename T>
void check_backward_case(const Geometry& g, const Ref& r, const Inputs& raw,
                         const RunOptions& opts, int mask = 7, RunStats* stats = nullptr) {
  const auto x = exact<T>(raw.x), w = exact<T>(raw.w), dy = exact<T>(raw.dy);
  const auto xt = as<T>(x), wt = as<T>(w), dyt = as<T>(dy);
  std::vector<double> dx, dw, db;
  r.backward(dy, x, w, dx, dw, db);
  auto gx = poisoned<T>(r.data_size()), gw = poisoned<T>(r.weight_size()),
       gb = poisoned<T>(r.F);
  deconv::deconvolution_backward<T>(Context{}, g, dyt.data(), xt.data(), wt.data(),
                                    mask & 1 ? gx.data() : nullptr,
                                    mask & 2 ? gw.data() : nullptr,
                                    mask & 4 ? gb.data() : nullptr, opts, stats);
  if (mask & 1) {
    EXPECT_TRUE(close("data_grad", gx, dx));
  }
  if (mask & 2) {
    EXPECT_TRUE(close("weight_grad", gw, dw));
  }
  if (mask & 4) {
    EXPECT_TRUE(close("bias_grad", gb, db));
  }
}

// Runs forward and backward of case `c` in type T with `threads` threads and compares all
// four results with the reference; the runs' stats go to `fwd` and `bwd` when given.
template <typename T>
void check_case(const Case& c, const Geometry& g, const Ref& r, const Inputs& raw, int threads,
                RunStats* fwd = nullptr, RunStats* bwd = nullptr,
                deconv::CpuPath path = deconv::CpuPath::Auto) {
  SCOPED_TRACE(std::string(std::is_same<T, double>::value ? "double" : "float") +
               ", threads " + std::to_string(threads));
  const auto x = exact<T>(raw.x), w = exact<T>(raw.w), b = exact<T>(raw.b);
  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b);
  RunOptions opts;
  opts.threads = threads;
  opts.cpu_path = path;

  auto y = poisoned<T>(r.out_size());
  deconv::deconvolution_forward<T>(Context{}, g, xt.data(), wt.data(),
                                   c.bias ? bt.data() : nullptr, y.data(), opts, fwd);
  EXPECT_TRUE(close("out", y, r.forward(x, w, c.bias ? &b : nullptr)));
  check_backward_case<T>(g, r, raw, opts, c.bias ? 7 : 3, bwd);
}

}  // namespace deconv_test
