// Winograd F(M, 2) transforms on one tile, nested over the dimensions that have two
// taps (bit d of Mask: dimension d = depth, height, width); the others pass through
// with extent 1. M outputs per tile from M + 1 inputs, in the correlation form
// y[j] = g0 d[j] + g1 d[j + 1] (the transpose of Toom-Cook's linear convolution).
// F(2, 2), points 0, 1, infinity:
//   input   B^T d = (d0 - d1, d1, d2 - d1)
//   filter  G g   = (g0, g0 + g1, g1)
//   output  A^T m = (m0 + m1, m1 + m2)
// F(4, 2), points 0, 1, -1, 2, infinity, B^T's rows scaled to integers (G's divided):
//   input   (2 d0 - d1 - 2 d2 + d3, 2 d1 + d2 - d3, -2 d1 + 3 d2 - d3, d3 - d1,
//            2 d1 - d2 - 2 d3 + d4)
//   filter  (g0 / 2, (g0 + g1) / 2, (g0 - g1) / 6, (g0 + 2 g1) / 6, g1)
//   output  (m0 + m1 + m2 + m3, m1 - m2 + 2 m3, m1 + m2 + 4 m3, m1 - m2 + 8 m3 + m4)
// F(4, 2) spends 25 multiplications per 4x4 outputs in 2D where the direct form spends
// 64 (F(2, 2): 9 per 2x2 for 16). Extents are compile-time, so each transform unrolls.
// Arrays are row-major [depth][height][width]; V may be a vector of lanes.
#pragma once

namespace deconv {
namespace cpu {

template <int Mask, int M = 2>
struct WinogradTile {
  static_assert(M == 2 || M == 4, "F(2, 2) and F(4, 2) only");
  static constexpr bool two(int d) { return (Mask >> d) & 1; }
  static constexpr int alpha(int d) { return two(d) ? M + 1 : 1; }  // inputs per tile
  static constexpr int m(int d) { return two(d) ? M : 1; }          // outputs per tile
  static constexpr int taps(int d) { return two(d) ? 2 : 1; }
  static constexpr int kElements = alpha(0) * alpha(1) * alpha(2);
  static constexpr int kOutputs = m(0) * m(1) * m(2);
  static constexpr int kTaps = taps(0) * taps(1) * taps(2);
};

namespace winograd_detail {

// Calls op(src, dst, step) for every line along dimension D of a [E0][E1][E2] array `s`
// whose lines become length N in `t` (step: the distance of a line's elements).
template <int E0, int E1, int E2, int D, int N, typename V, class Op>
inline void along(const V* s, V* t, Op op) {
  constexpr int ext = D == 0 ? E0 : D == 1 ? E1 : E2;
  constexpr int outer = D == 0 ? 1 : D == 1 ? E0 : E0 * E1;
  constexpr int inner = D == 0 ? E1 * E2 : D == 1 ? E2 : 1;
  for (int o = 0; o < outer; ++o)
    for (int k = 0; k < inner; ++k) op(s + o * ext * inner + k, t + o * N * inner + k, inner);
}

// The 1D transforms: s and t are lines, k the step between their elements.
template <int M>
struct Line;

template <>
struct Line<2> {
  template <typename V>
  static void input(const V* s, V* t, int k) {
    const V d1 = s[k];
    t[0] = s[0] - d1;
    t[k] = d1;
    t[2 * k] = s[2 * k] - d1;
  }
  template <typename V>
  static void filter(const V* s, V* t, int k) {
    const V g0 = s[0], g1 = s[k];
    t[0] = g0;
    t[k] = g0 + g1;
    t[2 * k] = g1;
  }
  template <typename V>
  static void output(const V* s, V* t, int k) {
    const V m1 = s[k];
    t[0] = s[0] + m1;
    t[k] = m1 + s[2 * k];
  }
};

template <>
struct Line<4> {
  template <typename V>
  static void input(const V* s, V* t, int k) {
    const V d0 = s[0], d1 = s[k], d2 = s[2 * k], d3 = s[3 * k], d4 = s[4 * k];
    t[0] = (d0 + d0 - d1) - (d2 + d2 - d3);
    t[k] = (d1 + d1 + d2) - d3;
    t[2 * k] = (d2 + d2 + d2 - d3) - (d1 + d1);
    t[3 * k] = d3 - d1;
    t[4 * k] = (d1 + d1 - d2) - (d3 + d3 - d4);
  }
  template <typename V>
  static void filter(const V* s, V* t, int k) {
    const V g0 = s[0], g1 = s[k];
    t[0] = g0 / 2;
    t[k] = (g0 + g1) / 2;
    t[2 * k] = (g0 - g1) / 6;
    t[3 * k] = (g0 + g1 + g1) / 6;
    t[4 * k] = g1;
  }
  template <typename V>
  static void output(const V* s, V* t, int k) {
    // Doublings are exact, so 2 m3, 4 m3 and 8 m3 round as products would.
    const V m1 = s[k], m2 = s[2 * k], m3 = s[3 * k];
    const V sum = m1 + m2, diff = m1 - m2, m3x2 = m3 + m3, m3x4 = m3x2 + m3x2;
    t[0] = s[0] + sum + m3;
    t[k] = diff + m3x2;
    t[2 * k] = sum + m3x4;
    t[3 * k] = diff + (m3x4 + m3x4) + s[4 * k];
  }
};

// Applies Line<M>::fn (picked by Kind: 0 input, 1 filter, 2 output) along the two-tap
// dimensions, width first: extents go from `from` to `to` per dimension.
template <int Mask, int M, int Kind, typename V>
inline void nested(const V* in, V* out) {
  using W = WinogradTile<Mask, M>;
  constexpr int from = Kind == 0 ? M + 1 : Kind == 1 ? 2 : M + 1;
  constexpr int to = Kind == 0 ? M + 1 : Kind == 1 ? M + 1 : M;
  constexpr int f0 = W::two(0) ? from : 1, f1 = W::two(1) ? from : 1, f2 = W::two(2) ? from : 1;
  constexpr int t1 = W::two(1) ? to : 1, t2 = W::two(2) ? to : 1;
  constexpr int t0 = W::two(0) ? to : 1;
  auto op = [](const V* s, V* t, int k) {
    if constexpr (Kind == 0) Line<M>::input(s, t, k);
    else if constexpr (Kind == 1) Line<M>::filter(s, t, k);
    else Line<M>::output(s, t, k);
  };
  V w[f0 * f1 * t2], h[f0 * t1 * t2];
  if constexpr (W::two(2)) along<f0, f1, f2, 2, t2>(in, w, op);
  else for (int i = 0; i < f0 * f1 * t2; ++i) w[i] = in[i];
  if constexpr (W::two(1)) along<f0, f1, t2, 1, t1>(w, h, op);
  else for (int i = 0; i < f0 * t1 * t2; ++i) h[i] = w[i];
  if constexpr (W::two(0)) along<f0, t1, t2, 0, t0>(h, out, op);
  else for (int i = 0; i < t0 * t1 * t2; ++i) out[i] = h[i];
}

}  // namespace winograd_detail

// a: [alpha0][alpha1][alpha2] -> b: the same extents.
template <int Mask, int M = 2, typename V>
inline void winograd_input(const V* a, V* b) {
  winograd_detail::nested<Mask, M, 0>(a, b);
}

// g: [taps0][taps1][taps2] -> u: [alpha0][alpha1][alpha2].
template <int Mask, int M = 2, typename V>
inline void winograd_filter(const V* g, V* u) {
  winograd_detail::nested<Mask, M, 1>(g, u);
}

// m: [alpha0][alpha1][alpha2] -> y: [m0][m1][m2].
template <int Mask, int M = 2, typename V>
inline void winograd_output(const V* m, V* y) {
  winograd_detail::nested<Mask, M, 2>(m, y);
}

}  // namespace cpu
}  // namespace deconv
