// What the Winograd forward and data gradient share (winograd_forward.cpp,
// winograd_backward.cpp): array strides in either layout, the channels-last staging
// transpose, 64-byte vectors of channels, the padded distance between the transformed
// matrices, and the threads' share of the E GEMMs.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/cpu/gemm.h"
#include "core/cpu/winograd_transforms.h"
#include "core/params.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {
namespace winograd {

// Elements between samples, channels and positions of an array laid out N, C (or F),
// spatial, in either order.
struct Strides {
  int64_t n, c;
  std::array<int64_t, 3> sp;
};

inline Strides strides(bool channels_last, int64_t channels, const std::array<int64_t, 3>& ext) {
  const int64_t S = ext[0] * ext[1] * ext[2];
  if (channels_last)
    return {S * channels, 1, {ext[1] * ext[2] * channels, ext[2] * channels, channels}};
  return {channels * S, S, {ext[1] * ext[2], ext[2], 1}};
}

// Bytes a chunk's transformed inputs and products aim at: wide enough GEMMs, while the
// transforms' writes stay in the caches (Zen 4, one thread, float: DCGAN 512 -> 256 and
// 256 -> 128 forwards took 47.9 / 42.6 ms at 1 MB, 42.0 / 41.8 at 4, 41.2 / 45.3 at 16).
constexpr int64_t kTargetChunkBytes = int64_t(4) << 20;

// Tiles per chunk, each `per_tile` elements of temporaries: near kTargetChunkBytes,
// within what the workspace leaves after `fixed` elements, at most `most`, at least 1;
// `within` says whether even one tile fits.
struct ChunkTiles {
  int64_t tiles;
  bool within;
};

inline ChunkTiles chunk_tiles(int64_t workspace_mb, size_t elem, int64_t fixed,
                              int64_t per_tile, int64_t most) {
  const int64_t budget = workspace_bytes(workspace_mb) / static_cast<int64_t>(elem) - fixed;
  const int64_t target =
      std::max<int64_t>(1, kTargetChunkBytes / static_cast<int64_t>(elem) / per_tile);
  return {std::max<int64_t>(1, std::min({most, target, budget / per_tile})), budget >= per_tile};
}

// The distance between the E matrices of U, V and M: n rounded up to 16 values, plus 16,
// so that the E streams a transform writes never sit a power of two apart (a filter
// transform of 1024 x 512 channels wrote 9 streams 2 MB apart, all in one cache set).
inline int64_t padded(int64_t n) { return (n + 15) / 16 * 16 + 16; }

// This thread's share [begin, end) of n items.
inline std::pair<int64_t, int64_t> share(int64_t n) {
  const int64_t id = thread_id(), size = team_size();
  return {n * id / size, n * (id + 1) / size};
}

// dst[n][j][i] = src[n][i][j] for i < rows, j < cols (src rows contiguous, dst rows
// `rows` apart): 8 x 8 blocks through a local tile, so that both sides move whole rows
// of a block; edges one by one.
template <typename A, typename B>
void transpose(int threads, int64_t batch, int64_t rows, int64_t cols, const A* src,
               int64_t src_n, B* dst, int64_t dst_n, InterruptPoll& poll) {
  constexpr int64_t kBlock = 8;
  const int64_t row_blocks = (rows + kBlock - 1) / kBlock;
  parallel_for(threads, batch * row_blocks, [&](int64_t task) {
    if (poll.poll()) return;
    const int64_t n = task / row_blocks, i0 = task % row_blocks * kBlock;
    const A* s = src + n * src_n;
    B* d = dst + n * dst_n;
    int64_t j0 = 0;
    if (i0 + kBlock <= rows) {
      for (; j0 + kBlock <= cols; j0 += kBlock) {
        B tile[kBlock][kBlock];
        for (int i = 0; i < kBlock; ++i)
          for (int j = 0; j < kBlock; ++j)
            tile[j][i] = static_cast<B>(s[(i0 + i) * cols + j0 + j]);
        for (int j = 0; j < kBlock; ++j)
          for (int i = 0; i < kBlock; ++i) d[(j0 + j) * rows + i0 + i] = tile[j][i];
      }
    }
    const int64_t i1 = std::min(rows, i0 + kBlock);
    for (int64_t j = j0; j < cols; ++j)
      for (int64_t i = i0; i < i1; ++i) d[j * rows + i] = static_cast<B>(s[i * cols + j]);
  });
}

// A 64-byte vector of T (GCC's and Clang's vector extension; the compiler splits it into
// the registers the target has): the channels or filters a transform step handles.
template <typename T>
struct Lanes {
  static constexpr int kLanes = 64 / sizeof(T);
  typedef T Vec __attribute__((vector_size(64)));

  // v = n values (n <= kLanes) of type X, `step` apart, as T lanes; the rest 0. (Out
  // parameters, not vector returns: those would change the ABI across ISAs.)
  template <typename X>
  static void load(Vec& v, const X* p, int64_t step, int n) {
    T t[kLanes];
    if (n == kLanes && step == 1) {
      for (int l = 0; l < kLanes; ++l) t[l] = static_cast<T>(p[l]);
    } else {
      for (int l = 0; l < kLanes; ++l) t[l] = l < n ? static_cast<T>(p[l * step]) : T(0);
    }
    std::memcpy(&v, t, sizeof v);
  }
  // The first n lanes of v to p, p + step, ..., converted to Y.
  template <typename Y>
  static void store(const Vec& v, Y* p, int64_t step, int n) {
    T t[kLanes];
    std::memcpy(t, &v, sizeof v);
    if (n == kLanes && step == 1) {
      for (int l = 0; l < kLanes; ++l) p[l] = static_cast<Y>(t[l]);
    } else {
      for (int l = 0; l < n; ++l) p[l * step] = static_cast<Y>(t[l]);
    }
  }
};

// The addresses of an [N0][N1][N2] patch: element (i0, i1, i2) at base + sum over d of
// pos(d, i_d) * sp[d], valid where every pos(d, i_d) lies in [0, ext[d]) (else base, a
// safe address the transforms do not read).
template <int N0, int N1, int N2, typename P, class Pos>
void patch_pointers(P* base, const std::array<int64_t, 3>& sp, const std::array<int64_t, 3>& ext,
                    Pos pos, P** at, bool* valid) {
  int e = 0;
  for (int i0 = 0; i0 < N0; ++i0)
    for (int i1 = 0; i1 < N1; ++i1)
      for (int i2 = 0; i2 < N2; ++i2, ++e) {
        const int i[3] = {i0, i1, i2};
        int64_t off = 0;
        bool ok = true;
        for (int d = 0; d < 3; ++d) {
          const int64_t x = pos(d, i[d]);
          ok = ok && x >= 0 && x < ext[d];
          off += x * sp[d];
        }
        valid[e] = ok;
        at[e] = ok ? base + off : base;
      }
}

// One tile's input transform for `count` channels: patch element e of channel c at
// at[e][c * step] (read as 0 where !valid[e]), transformed element e of channel c to
// dst[e * e_step + c]; channels kLanes at a time.
template <int Mask, int M, typename T, typename X>
void transform_patch(const X* const* at, const bool* valid, int64_t count, int64_t step,
                     T* dst, int64_t e_step) {
  using L = Lanes<T>;
  constexpr int E = WinogradTile<Mask, M>::kElements;
  for (int64_t c0 = 0; c0 < count; c0 += L::kLanes) {
    const int n = static_cast<int>(std::min<int64_t>(L::kLanes, count - c0));
    typename L::Vec a[E], b[E];
    for (int e = 0; e < E; ++e) {
      if (valid[e]) L::load(a[e], at[e] + c0 * step, step, n);
      else a[e] = typename L::Vec{};
    }
    winograd_input<Mask, M>(a, b);
    for (int e = 0; e < E; ++e) L::store(b[e], dst + e * e_step + c0, 1, n);
  }
}

// One tile's output transform for `count` channels: product element e of channel c at
// src[e * e_step + c], output q of channel c (plus bias[c], if any) to at[q][c * step]
// where valid[q].
template <int Mask, int M, typename T, typename Y>
void untransform_tile(const T* src, int64_t e_step, int64_t count, const T* bias,
                      Y* const* at, const bool* valid, int64_t step) {
  using L = Lanes<T>;
  using W = WinogradTile<Mask, M>;
  for (int64_t c0 = 0; c0 < count; c0 += L::kLanes) {
    const int n = static_cast<int>(std::min<int64_t>(L::kLanes, count - c0));
    typename L::Vec a[W::kElements], y[W::kOutputs], b{};
    for (int e = 0; e < W::kElements; ++e) L::load(a[e], src + e * e_step + c0, 1, n);
    winograd_output<Mask, M>(a, y);
    if (bias) L::load(b, bias + c0, 1, n);
    for (int q = 0; q < W::kOutputs; ++q)
      if (valid[q]) L::store(y[q] + b, at[q] + c0 * step, step, n);
  }
}

// The filter transform G g G^T of `count` items (the filters or channels of one phase):
// tap i of item l at w[l * item_step + tap[i]], transformed element e of item l to
// dst[e * e_step + l]. In double, kLanes items at a time, rounded once to T (the same
// values as one item at a time, 8x fewer stores).
template <int Mask, int M, typename T, typename IO>
void transform_filters(const IO* w, int64_t item_step, const int64_t* tap, int64_t count,
                       T* dst, int64_t e_step) {
  using L = Lanes<double>;
  using W = WinogradTile<Mask, M>;
  for (int64_t l0 = 0; l0 < count; l0 += L::kLanes) {
    const int n = static_cast<int>(std::min<int64_t>(L::kLanes, count - l0));
    typename L::Vec a[W::kTaps], b[W::kElements];
    for (int i = 0; i < W::kTaps; ++i) L::load(a[i], w + l0 * item_step + tap[i], item_step, n);
    winograd_filter<Mask, M>(a, b);
    for (int e = 0; e < W::kElements; ++e) L::store(b[e], dst + e * e_step + l0, 1, n);
  }
}

// C_e = A_e B_e for e < E, row-major (m x k times k x n), matrix e of each at
// e * padded(its size); shared by the threads in (element, block) pairs.
template <typename T>
void products(int threads, int64_t E, int64_t m, int64_t n, int64_t k, const T* a, const T* b,
              T* c, GemmBackend backend, InterruptPoll& poll) {
  const int parts = threads;
  parallel_region(threads, [&] {
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < E * parts; ++task) {
      if (poll.poll()) continue;
      const int64_t e = task / parts;
      gemm_part<T>(static_cast<int>(task % parts), parts, false, false, m, n, k,
                   a + e * padded(m * k), k, b + e * padded(k * n), n, T(0),
                   c + e * padded(m * n), n, backend, &poll);
    }
  });
}

// fn(integral_constant<Mask>, integral_constant<M>) for `mask` (1 to 7: the dimensions
// with two taps) and `tile` (M = 2 or 4 outputs per tile): the transforms are compiled
// for each.
template <int M, class Fn>
void with_mask(int mask, Fn&& fn) {
  using M_ = std::integral_constant<int, M>;
  switch (mask) {
    case 1: fn(std::integral_constant<int, 1>{}, M_{}); break;
    case 2: fn(std::integral_constant<int, 2>{}, M_{}); break;
    case 3: fn(std::integral_constant<int, 3>{}, M_{}); break;
    case 4: fn(std::integral_constant<int, 4>{}, M_{}); break;
    case 5: fn(std::integral_constant<int, 5>{}, M_{}); break;
    case 6: fn(std::integral_constant<int, 6>{}, M_{}); break;
    default: fn(std::integral_constant<int, 7>{}, M_{}); break;
  }
}
template <class Fn>
void with_tile(int mask, int tile, Fn&& fn) {
  if (tile == 4) with_mask<4>(mask, fn);
  else with_mask<2>(mask, fn);
}

// The caller's tile (RunOptions::winograd_tile), else DECONV_WINOGRAD_TILE=2 or 4 from the
// environment (read per call, for benchmarks), else 0 (the plan's choice).
inline int requested_tile(const RunOptions& opts) {
  if (opts.winograd_tile == 2 || opts.winograd_tile == 4) return opts.winograd_tile;
  const char* env = std::getenv("DECONV_WINOGRAD_TILE");
  if (env && (env[0] == '2' || env[0] == '4') && env[1] == 0) return env[0] - '0';
  return 0;
}

// The dimensions of g with two taps, as a mask (bit d: dimension d).
inline int two_tap_mask(const Geometry& g) {
  int mask = 0;
  for (int d = 0; d < 3; ++d) mask |= g.kernel[d] != 1 ? 1 << d : 0;
  return mask;
}

}  // namespace winograd
}  // namespace cpu
}  // namespace deconv
