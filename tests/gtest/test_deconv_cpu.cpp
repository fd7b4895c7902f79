// Tests of the CPU kernels (src/core/cpu) through the dispatch (src/core/dispatch.h):
// forward and backward against a direct-loop reference written here from the definition
// of a transposed convolution, over seeded random cases covering every layout.
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

#include "core/cuda/deconv_cuda.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/params.h"
#include "core/shape.h"
#include "test_helpers.h"

using namespace deconv;

namespace {

// ---- a test case -----------------------------------------------------------------------

struct Case {
  Layout layout = Layout::NCHW;  // the layout the data is in
  bool layout_given = true;      // false: leave DeconvParams::layout at None (default)
  int rank = 2;
  int64_t N = 1, G = 1, Cg = 1, Fg = 1;
  // Spatial tuples in MXNet order, `rank` entries each.
  Tuple in, kernel, stride, dilate, pad, adj, target;
  bool bias = false;
  int64_t workspace = 512;

  int64_t C() const { return G * Cg; }
  int64_t F() const { return G * Fg; }

  DeconvParams params() const {
    DeconvParams p;
    p.kernel = kernel;
    p.stride = stride;
    p.dilate = dilate;
    p.pad = pad;
    p.adj = adj;
    p.target_shape = target;
    p.num_filter = F();
    p.num_group = G;
    p.no_bias = !bias;
    p.workspace = workspace;
    p.layout = layout_given ? layout : Layout::None;
    return p;
  }
  Shape data_shape() const {
    Shape s{N};
    const bool last = layout_channels_last(layout);
    if (!last) s.push_back(C());
    s.insert(s.end(), in.begin(), in.end());
    if (last) s.push_back(C());
    return s;
  }
  std::string str() const {
    auto t = [](const Tuple& v) {
      std::ostringstream os;
      os << "(";
      for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
      os << ")";
      return os.str();
    };
    std::ostringstream os;
    os << layout_name(layout) << (layout_given ? "" : "[default]") << " N=" << N << " G=" << G
       << " Cg=" << Cg << " Fg=" << Fg << " in=" << t(in) << " kernel=" << t(kernel)
       << " stride=" << t(stride) << " dilate=" << t(dilate) << " pad=" << t(pad)
       << " adj=" << t(adj) << " target=" << t(target) << " bias=" << bias
       << " workspace=" << workspace;
    return os.str();
  }
};

Case make_case(Layout layout, int64_t N, int64_t G, int64_t Cg, int64_t Fg, Tuple in,
               Tuple kernel, Tuple stride, Tuple dilate, Tuple pad, Tuple adj, bool bias,
               int64_t workspace = 512) {
  Case c;
  c.layout = layout;
  c.rank = layout_rank(layout);
  c.N = N;
  c.G = G;
  c.Cg = Cg;
  c.Fg = Fg;
  c.in = std::move(in);
  c.kernel = std::move(kernel);
  c.stride = std::move(stride);
  c.dilate = std::move(dilate);
  c.pad = std::move(pad);
  c.adj = std::move(adj);
  c.bias = bias;
  c.workspace = workspace;
  return c;
}

// ---- the reference ---------------------------------------------------------------------

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

// ---- comparison ------------------------------------------------------------------------

template <typename T>
double tolerance() {
  return std::is_same<T, double>::value ? 1e-10 : 1e-4;
}

// max|got - ref| <= tol * max|ref| (and every value finite).
template <typename T>
::testing::AssertionResult close(const char* what, const std::vector<T>& got,
                                 const std::vector<double>& ref) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << what << ": size " << got.size() << " vs "
                                         << ref.size();
  double scale = 0, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, std::abs(ref[i]));
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = static_cast<double>(got[i]);
    if (!std::isfinite(g))
      return ::testing::AssertionFailure() << what << "[" << i << "] = " << g
                                           << " (not written?), expected " << ref[i];
    const double e = std::abs(g - ref[i]);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  if (worst > tolerance<T>() * std::max(scale, 1e-300))
    return ::testing::AssertionFailure()
           << what << ": max error " << worst << " at [" << at << "] (got " << got[at]
           << ", expected " << ref[at] << "), max|ref| = " << scale;
  return ::testing::AssertionSuccess();
}

std::vector<double> random_values(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Values as the type T holds them, and the same values back in double for the reference.
template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <typename T>
std::vector<double> exact(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<double>(static_cast<T>(v[i]));
  return r;
}

template <typename T>
std::vector<T> poisoned(int64_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

struct Inputs {
  std::vector<double> x, w, b, dy;
};

Inputs random_inputs(const Ref& r, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.x = random_values(r.data_size(), rng);
  in.w = random_values(r.weight_size(), rng);
  in.b = random_values(r.F, rng);
  in.dy = random_values(r.out_size(), rng);
  return in;
}

// Runs forward and backward of case `c` in type T with `threads` threads and compares all
// four results with the reference.
template <typename T>
void check_case(const Case& c, const Geometry& g, const Ref& r, const Inputs& raw, int threads) {
  SCOPED_TRACE(std::string(std::is_same<T, double>::value ? "double" : "float") +
               ", threads " + std::to_string(threads));
  const auto x = exact<T>(raw.x), w = exact<T>(raw.w), b = exact<T>(raw.b),
             dy = exact<T>(raw.dy);
  const auto xt = as<T>(x), wt = as<T>(w), bt = as<T>(b), dyt = as<T>(dy);
  const Context cpu;
  RunOptions opts;
  opts.threads = threads;

  auto y = poisoned<T>(r.out_size());
  deconvolution_forward<T>(cpu, g, xt.data(), wt.data(), c.bias ? bt.data() : nullptr,
                           y.data(), opts);
  EXPECT_TRUE(close("out", y, r.forward(x, w, c.bias ? &b : nullptr)));

  std::vector<double> dx, dw, db;
  r.backward(dy, x, w, dx, dw, db);
  auto gx = poisoned<T>(r.data_size()), gw = poisoned<T>(r.weight_size()),
       gb = poisoned<T>(r.F);
  deconvolution_backward<T>(cpu, g, dyt.data(), xt.data(), wt.data(), gx.data(), gw.data(),
                            c.bias ? gb.data() : nullptr, opts);
  EXPECT_TRUE(close("data_grad", gx, dx));
  EXPECT_TRUE(close("weight_grad", gw, dw));
  if (c.bias) {
    EXPECT_TRUE(close("bias_grad", gb, db));
  }
}

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

// ---- random cases ----------------------------------------------------------------------

Case random_case(int index) {
  std::mt19937_64 rng(0x5eed0000u + static_cast<uint64_t>(index));
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  static const Layout layouts[] = {Layout::NCW, Layout::NCHW, Layout::NCDHW, Layout::NHWC,
                                   Layout::NDHWC};
  Case c;
  c.layout = layouts[index % 5];  // every layout equally often
  c.rank = layout_rank(c.layout);
  c.layout_given = layout_channels_last(c.layout) || uni(0, 2) != 0;
  c.N = uni(1, 3);
  switch (uni(0, 3)) {
    case 0:  // no groups
      c.G = 1;
      c.Cg = uni(1, 4);
      c.Fg = uni(1, 4);
      break;
    case 1:  // grouped
      c.G = uni(2, 3);
      c.Cg = uni(1, 3);
      c.Fg = uni(1, 3);
      break;
    case 2:  // depthwise: one input channel per group
      c.G = uni(2, 5);
      c.Cg = 1;
      c.Fg = uni(1, 2);
      break;
    default:  // wider
      c.G = uni(1, 2);
      c.Cg = uni(4, 8);
      c.Fg = uni(3, 6);
      break;
  }
  const int64_t max_in = c.rank == 1 ? 12 : c.rank == 2 ? 7 : 4;
  const int64_t max_k = c.rank == 3 ? 3 : 4;
  // Sometimes leave stride/dilate/pad/adj unset (defaults: 1, 1, 0, 0).
  const bool defaults = uni(0, 5) == 0;
  const bool use_target = !defaults && uni(0, 3) == 0;
  for (int i = 0; i < c.rank; ++i) {
    const int64_t in = uni(1, max_in), k = uni(1, max_k);
    const int64_t s = defaults ? 1 : uni(1, 3);
    const int64_t d = defaults || uni(0, 3) != 0 ? 1 : uni(2, 3);
    const int64_t full = s * (in - 1) + d * (k - 1) + 1;
    c.in.push_back(in);
    c.kernel.push_back(k);
    c.stride.push_back(s);
    c.dilate.push_back(d);
    int64_t t = 0;
    if (use_target && uni(0, 3) != 0) t = uni(std::max<int64_t>(1, full - 5), full);
    c.target.push_back(t);
    if (defaults) {
      c.pad.push_back(0);
      c.adj.push_back(0);
    } else if (t != 0) {
      // Not used in this dimension: anything non-negative, adj even >= stride.
      c.pad.push_back(uni(0, 3));
      c.adj.push_back(uni(0, s + 1));
    } else {
      const int64_t a = uni(0, s - 1);
      // pad as large as keeps the output positive, so taps fall off both ends.
      const int64_t pmax = std::min(d * (k - 1) + 1, (full - 1 + a) / 2);
      c.adj.push_back(a);
      c.pad.push_back(uni(0, std::max<int64_t>(0, pmax)));
    }
  }
  if (defaults) {
    c.stride.clear();
    c.dilate.clear();
    c.pad.clear();
    c.adj.clear();
  }
  if (!use_target) c.target.clear();
  c.bias = uni(0, 1) == 1;
  c.workspace = uni(0, 2) == 0 ? 0 : 512;  // 0: one input position per tile
  return c;
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
      for (int mask = 0; mask < 8; ++mask) {
        SCOPED_TRACE("mask " + std::to_string(mask) + " threads " + std::to_string(threads));
        auto gx = poisoned<double>(r.data_size()), gw = poisoned<double>(r.weight_size()),
             gb = poisoned<double>(r.F);
        deconvolution_backward<double>(cpu, g, in.dy.data(), in.x.data(), in.w.data(),
                                       (mask & 1) ? gx.data() : nullptr,
                                       (mask & 2) ? gw.data() : nullptr,
                                       (mask & 4) ? gb.data() : nullptr, opts);
        auto untouched = [](const std::vector<double>& v) {
          return std::all_of(v.begin(), v.end(), [](double e) { return std::isnan(e); });
        };
        if (mask & 1) {
          EXPECT_TRUE(close("data_grad", gx, dx));
        } else {
          EXPECT_TRUE(untouched(gx));
        }
        if (mask & 2) {
          EXPECT_TRUE(close("weight_grad", gw, dw));
        } else {
          EXPECT_TRUE(untouched(gw));
        }
        if (mask & 4) {
          EXPECT_TRUE(close("bias_grad", gb, db));
        } else {
          EXPECT_TRUE(untouched(gb));
        }
      }
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
  // workspace 0: one input position per tile, so the check also runs inside a unit.
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
  opts.interrupted = [&calls]() { return ++calls >= 5; };
  EXPECT_THROW(deconvolution_forward<float>(cpu, g, x.data(), w.data(), nullptr, y.data(), opts),
               Interrupted);
  EXPECT_EQ(calls, 5);  // stops at the first true
  calls = 0;
  EXPECT_THROW(deconvolution_backward<float>(cpu, g, dy.data(), x.data(), w.data(), gx.data(),
                                             gw.data(), nullptr, opts),
               Interrupted);
  EXPECT_EQ(calls, 5);
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
  EXPECT_GE(calls, 3);
  EXPECT_TRUE(close("out", y, r.forward(in.x, in.w, &in.b)));
}

// ---- GPU context in a CPU-only build -------------------------------------------------------

TEST(DeconvDispatch, GpuContextUnsupported) {
  if (cuda::compiled_with_cuda()) GTEST_SKIP() << "this build has GPU support";
  EXPECT_FALSE(cuda::compiled_with_cuda());
  EXPECT_EQ(cuda::device_count(), 0);
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
  for (int id : {0, 1}) {
    gpu.device_id = id;
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_forward<float>(gpu, g, xf.data(), wf.data(), bf.data(),
                                                     yf.data(), opts),
                        "ctx", "GPU");
    EXPECT_DECONV_ERROR(UnsupportedError,
                        deconvolution_forward<double>(gpu, g, xd.data(), wd.data(), bd.data(),
                                                      yd.data(), opts),
                        "ctx", "GPU");
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
  EXPECT_DECONV_ERROR(UnsupportedError, cuda::require_device(0), "ctx", "");
}

}  // namespace
