// Winograd F(2, 2) transforms on one tile, nested over the dimensions that have two
// taps (bit d of Mask: dimension d = depth, height, width); the others pass through
// with extent 1. Extents are compile-time, so each transform unrolls into a few adds.
//   input   B^T d = (d0 - d1, d1, d2 - d1)        3 -> 3, in place
//   filter  G g   = (g0, g0 + g1, g1)             2 -> 3
//   output  A^T m = (m0 + m1, m1 + m2)            3 -> 2
// Arrays are row-major [depth][height][width], each element L lanes wide (L values of
// independent tiles or channels side by side, so that every step is a vector loop).
#pragma once

namespace deconv {
namespace cpu {

template <int Mask>
struct WinogradTile {
  static constexpr bool two(int d) { return (Mask >> d) & 1; }
  static constexpr int alpha(int d) { return two(d) ? 3 : 1; }  // inputs per tile
  static constexpr int m(int d) { return two(d) ? 2 : 1; }      // outputs per tile
  static constexpr int taps(int d) { return two(d) ? 2 : 1; }
  static constexpr int kElements = alpha(0) * alpha(1) * alpha(2);
  static constexpr int kOutputs = m(0) * m(1) * m(2);
  static constexpr int kTaps = taps(0) * taps(1) * taps(2);
};

namespace winograd_detail {

// Calls op(src, dst, step) for every line along dimension D of a [E0][E1][E2] array `s`
// of Lanes-wide elements whose lines become length N in `t` (step: the distance of a
// line's elements, in values).
template <int E0, int E1, int E2, int D, int N, int Lanes, typename V, class Op>
inline void along(const V* s, V* t, Op op) {
  constexpr int ext = D == 0 ? E0 : D == 1 ? E1 : E2;
  constexpr int outer = D == 0 ? 1 : D == 1 ? E0 : E0 * E1;
  constexpr int inner = D == 0 ? E1 * E2 : D == 1 ? E2 : 1;
  for (int o = 0; o < outer; ++o)
    for (int k = 0; k < inner; ++k)
      op(s + (o * ext * inner + k) * Lanes, t + (o * N * inner + k) * Lanes, inner * Lanes);
}

}  // namespace winograd_detail

// In place on a [alpha0][alpha1][alpha2] array.
template <int Mask, int L = 1, typename V>
inline void winograd_input(V* a) {
  using W = WinogradTile<Mask>;
  constexpr int A0 = W::alpha(0), A1 = W::alpha(1), A2 = W::alpha(2);
  auto bt = [](const V*, V* t, int k) {
    for (int l = 0; l < L; ++l) {
      t[l] -= t[k + l];
      t[2 * k + l] -= t[k + l];
    }
  };
  if constexpr (W::two(2)) winograd_detail::along<A0, A1, A2, 2, 3, L>(a, a, bt);
  if constexpr (W::two(1)) winograd_detail::along<A0, A1, A2, 1, 3, L>(a, a, bt);
  if constexpr (W::two(0)) winograd_detail::along<A0, A1, A2, 0, 3, L>(a, a, bt);
}

// g: [taps0][taps1][taps2] -> u: [alpha0][alpha1][alpha2].
template <int Mask, typename V>
inline void winograd_filter(const V* g, V* u) {
  using W = WinogradTile<Mask>;
  constexpr int T0 = W::taps(0), T1 = W::taps(1);
  constexpr int A0 = W::alpha(0), A1 = W::alpha(1), A2 = W::alpha(2);
  auto gg = [](const V* s, V* t, int k) {
    const V g0 = s[0], g1 = s[k];
    t[0] = g0;
    t[k] = g0 + g1;
    t[2 * k] = g1;
  };  // (filters are transformed one at a time)
  // Width, then height, then depth; a dimension of one tap leaves its extent.
  V w[T0 * T1 * A2], h[T0 * A1 * A2];
  if constexpr (W::two(2)) winograd_detail::along<T0, T1, 2, 2, 3, 1>(g, w, gg);
  else for (int i = 0; i < T0 * T1 * A2; ++i) w[i] = g[i];
  if constexpr (W::two(1)) winograd_detail::along<T0, 2, A2, 1, 3, 1>(w, h, gg);
  else for (int i = 0; i < T0 * A1 * A2; ++i) h[i] = w[i];
  if constexpr (W::two(0)) winograd_detail::along<2, A1, A2, 0, 3, 1>(h, u, gg);
  else for (int i = 0; i < A0 * A1 * A2; ++i) u[i] = h[i];
}

// m: [alpha0][alpha1][alpha2] -> y: [m0][m1][m2].
template <int Mask, int L = 1, typename V>
inline void winograd_output(const V* m, V* y) {
  using W = WinogradTile<Mask>;
  constexpr int A0 = W::alpha(0), A1 = W::alpha(1);
  constexpr int M0 = W::m(0), M1 = W::m(1), M2 = W::m(2);
  auto at = [](const V* s, V* t, int k) {
    for (int l = 0; l < L; ++l) {
      const V m1 = s[k + l];
      t[l] = s[l] + m1;
      t[k + l] = m1 + s[2 * k + l];
    }
  };
  V w[A0 * A1 * M2 * L], h[A0 * M1 * M2 * L];
  if constexpr (W::two(2)) winograd_detail::along<A0, A1, 3, 2, 2, L>(m, w, at);
  else for (int i = 0; i < A0 * A1 * M2 * L; ++i) w[i] = m[i];
  if constexpr (W::two(1)) winograd_detail::along<A0, 3, M2, 1, 2, L>(w, h, at);
  else for (int i = 0; i < A0 * M1 * M2 * L; ++i) h[i] = w[i];
  if constexpr (W::two(0)) winograd_detail::along<3, M1, M2, 0, 2, L>(h, y, at);
  else for (int i = 0; i < M0 * M1 * M2 * L; ++i) y[i] = h[i];
}

}  // namespace cpu
}  // namespace deconv
