// Winograd F(2, 2) data gradient (see winograd.h).
//
// dX[c][i] = sum over f and taps k of w[c][f][k] dY[f][i * stride + k - pad] per
// dimension. With k = r + t * stride, the output o = (i + t) * stride + r - pad is
// element i + t of phase r's plane y_r[q] = dY[q * stride + r - pad] (0 outside), so
//   dX[i] = sum over phases r of g0 y_r[i] + g1 y_r[i + 1],  g0 = w[r], g1 = w[r + stride]:
// per phase a 2-tap correlation, which F(2, 2) computes for tiles of two dX positions
// from y_r[i0 .. i0 + 2] (the transforms of winograd_transforms.h, nested over the
// dimensions). The phases and filters are the inner dimension of the products: per
// transformed element e, M_e (tiles x Cg) = V_e (tiles x phases*Fg) U_e (phases*Fg x Cg).
// Channels-first layers go through channels-last copies of one group's dY and dX, as the
// forward does; threads share tiles in the transforms and (element, block) pairs in the
// GEMMs.
#include <algorithm>
#include <array>
#include <type_traits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/scratch.h"
#include "core/cpu/taps.h"
#include "core/cpu/winograd.h"
#include "core/cpu/winograd_common.h"
#include "core/cpu/winograd_transforms.h"

namespace deconv {
namespace cpu {

namespace {

using winograd::padded;
using winograd::share;
using winograd::Strides;

int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

struct Plan : LayerSizes {
  int tile = 2;                                   // M: outputs per tile, two-tap dimensions
  std::array<int64_t, 3> m{}, tiles{};            // per dimension
  std::array<std::vector<int64_t>, 3> phases;   // each dimension's phases with outputs
  int64_t phase_count = 1;                      // P: their product
  int64_t elements = 1;                         // E
  int64_t tiles_per_sample = 1;
  int64_t inner = 0;                            // K = P * Fg
  int64_t u_elems = 0, v_elems = 0, m_elems = 0, chunk_tiles = 1;
  bool within = false;
  int threads = 1;
  Strides dy, dx;                               // the arrays as given
  bool staged = false;                          // channels-first: channels-last copies
  int64_t dys_elems = 0, dxs_elems = 0;
  Strides dys, dxs;
};

// `tile`: M asked for, or 0 for F(2, 2) (as the forward: winograd_forward.cpp says why;
// DCGAN 256 -> 128's data gradient, float / double ms: 40.2 vs 43.1 / 101 vs 131).
Plan make_plan(const Geometry& g, size_t elem, int threads, int tile = 0) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  if (tile != 4) tile = 2;
  p.tile = tile;
  for (int d = 0; d < 3; ++d) {
    const int64_t taps = g.kernel[d] == 1 ? 1 : 2;
    p.m[d] = taps == 2 ? tile : 1;
    p.elements *= p.m[d] + taps - 1;
    p.tiles[d] = ceil_div(g.in[d], p.m[d]);
    p.tiles_per_sample *= p.tiles[d];
    for (int64_t r = 0; r < g.stride[d]; ++r)
      if (ceil_div(g.pad[d] - r, g.stride[d]) <=
          floor_div(g.out[d] - 1 + g.pad[d] - r, g.stride[d]))
        p.phases[d].push_back(r);
    p.phase_count *= static_cast<int64_t>(p.phases[d].size());
  }
  const int64_t E = p.elements, Cg = p.channels_per_group;
  p.inner = p.phase_count * p.filters_per_group;
  p.u_elems = E * padded(p.inner * Cg);
  p.staged = !g.channels_last;
  if (p.staged) {
    p.dys_elems = p.batch * p.out_positions * p.filters_per_group;
    p.dxs_elems = p.batch * p.in_positions * Cg;
    p.dys = winograd::strides(true, p.filters_per_group, g.out);
    p.dxs = winograd::strides(true, Cg, g.in);
  }
  const int64_t per_tile = E * (p.inner + Cg) + 64;  // + the padding, amortized
  const winograd::ChunkTiles ct =
      winograd::chunk_tiles(g.workspace_mb, elem, p.u_elems + p.dys_elems + p.dxs_elems,
                            per_tile, p.tiles_per_sample * p.batch);
  p.chunk_tiles = ct.tiles;
  p.within = ct.within;
  p.v_elems = E * padded(p.chunk_tiles * p.inner);
  p.m_elems = E * padded(p.chunk_tiles * Cg);
  p.threads = threads;
  p.dy = winograd::strides(g.channels_last, p.filters, g.out);
  p.dx = winograd::strides(g.channels_last, p.channels, g.in);
  return p;
}

// Phase j (of P) as its r per dimension.
std::array<int64_t, 3> phase_of(const Plan& p, int64_t j) {
  std::array<int64_t, 3> r;
  for (int d = 2; d >= 0; --d) {
    const int64_t n = static_cast<int64_t>(p.phases[d].size());
    r[d] = p.phases[d][j % n];
    j /= n;
  }
  return r;
}

// A tile index as sample and per-dimension tile.
struct Tile {
  int64_t n;
  std::array<int64_t, 3> t;
};

Tile split(const Plan& p, int64_t tile) {
  Tile x;
  x.n = tile / p.tiles_per_sample;
  int64_t rem = tile - x.n * p.tiles_per_sample;
  for (int d = 2; d >= 0; --d) {
    x.t[d] = rem % p.tiles[d];
    rem /= p.tiles[d];
  }
  return x;
}

template <int Mask, int M, typename T, typename IO>
struct Steps {
  using W = WinogradTile<Mask, M>;
  static constexpr int E = W::kElements;
  const Geometry& g;
  const Plan& p;
  InterruptPoll& poll;

  // U_e[j * Fg + f][c] of group gi: G g G^T of phase j's taps (tap a of a dimension
  // multiplies y_r[i + a]: kernel index r + a * stride), in double.
  void filters(int64_t gi, const IO* weight, T* u) const {
    const int64_t Fg = p.filters_per_group, Cg = p.channels_per_group, K = p.inner;
    // Channels-first weights are [c][f][tap], channels-last [c][tap][f]: per phase, the
    // offset of each tap's weight from its filter's first.
    const int64_t tap_step = g.channels_last ? Fg : 1, filter_step = g.channels_last ? 1 : p.taps;
    std::vector<std::array<int64_t, W::kTaps>> taps(p.phase_count);
    for (int64_t j = 0; j < p.phase_count; ++j) {
      const std::array<int64_t, 3> r = phase_of(p, j);
      int i = 0;
      for (int a0 = 0; a0 < W::taps(0); ++a0)
        for (int a1 = 0; a1 < W::taps(1); ++a1)
          for (int a2 = 0; a2 < W::taps(2); ++a2, ++i)
            taps[j][i] = (((r[0] + a0 * g.stride[0]) * g.kernel[1] + r[1] + a1 * g.stride[1]) *
                              g.kernel[2] + r[2] + a2 * g.stride[2]) * tap_step;
    }
    parallel_for(p.threads, K, [&](int64_t row) {
      if (poll.poll()) return;  // the calling thread polls (throttled); others read
      const int64_t j = row / Fg, f = row % Fg;
      // the channels of (phase j, filter f), in vectors
      winograd::transform_filters<Mask, M>(weight + gi * Cg * Fg * p.taps + f * filter_step,
                                           Fg * p.taps, taps[j].data(), Cg, u + row * Cg,
                                           padded(K * Cg));
    });
  }

  // V_e[tile - t0][j * Fg + f]: B^T of each phase plane's patch, filters in vectors.
  template <typename X>
  void inputs(int64_t t0, int64_t nt, const X* dyg, const Strides& st, T* v) const {
    const int64_t Fg = p.filters_per_group, K = p.inner, fs = st.c;
    parallel_region(p.threads, [&] {
      const auto [b, e] = share(nt);
      for (int64_t t = b; t < e; ++t) {
        if ((t - b) % 16 == 0 ? poll.poll() : poll.stopped()) break;
        const Tile x = split(p, t0 + t);
        for (int64_t j = 0; j < p.phase_count; ++j) {
          const std::array<int64_t, 3> r = phase_of(p, j);
          const X* at[E];
          bool valid[E];
          winograd::patch_pointers<W::alpha(0), W::alpha(1), W::alpha(2)>(
              dyg + x.n * st.n, st.sp, g.out,
              [&](int d, int a) { return (W::m(d) * x.t[d] + a) * g.stride[d] + r[d] - g.pad[d]; },
              at, valid);
          winograd::transform_patch<Mask, M>(at, valid, Fg, fs, v + t * K + j * Fg,
                                             padded(nt * K));
        }
      }
    });
  }

  // dX at the tiles' positions: A^T M_e, channels in vectors.
  template <typename Y>
  void outputs(int64_t t0, int64_t nt, const T* m, Y* dxg, const Strides& st) const {
    const int64_t Cg = p.channels_per_group, cs = st.c;
    parallel_region(p.threads, [&] {
      const auto [b, e] = share(nt);
      for (int64_t t = b; t < e; ++t) {
        if ((t - b) % 16 == 0 ? poll.poll() : poll.stopped()) break;
        const Tile x = split(p, t0 + t);
        Y* at[W::kOutputs];
        bool valid[W::kOutputs];
        winograd::patch_pointers<W::m(0), W::m(1), W::m(2)>(
            dxg + x.n * st.n, st.sp, g.in, [&](int d, int b) { return W::m(d) * x.t[d] + b; },
            at, valid);
        winograd::untransform_tile<Mask, M>(m + t * Cg, padded(nt * Cg), Cg,
                                            static_cast<const T*>(nullptr), at, valid, cs);
      }
    });
  }

  void run(const IO* out_grad, const IO* weight, IO* data_grad, T* u, T* v, T* m, T* dys, T* dxs,
           GemmBackend backend, int64_t& chunks) const {
    const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group;
    const int64_t tiles = p.tiles_per_sample * p.batch;
    for (int64_t gi = 0; gi < p.groups && !poll.poll(); ++gi) {
      const IO* dyg = out_grad + gi * Fg * p.dy.c;
      IO* dxg = data_grad + gi * Cg * p.dx.c;
      // [n][f][s] -> [n][s][f]
      if (p.staged)
        winograd::transpose(p.threads, p.batch, Fg, p.out_positions, dyg, p.dy.n, dys, p.dys.n,
                            poll);
      filters(gi, weight, u);
      for (int64_t t0 = 0; t0 < tiles && !poll.poll(); t0 += p.chunk_tiles, ++chunks) {
        const int64_t nt = std::min(p.chunk_tiles, tiles - t0);
        if (p.staged) inputs(t0, nt, dys, p.dys, v);
        else inputs(t0, nt, dyg, p.dy, v);
        winograd::products(p.threads, E, nt, Cg, p.inner, v, u, m, backend, poll);
        if (p.staged) outputs(t0, nt, m, dxs, p.dxs);
        else outputs(t0, nt, m, dxg, p.dx);
      }
      // [n][s][c] -> [n][c][s]
      if (p.staged && !poll.stopped())
        winograd::transpose(p.threads, p.batch, p.in_positions, Cg, dxs, p.dxs.n, dxg, p.dx.n,
                            poll);
    }
  }
};

}  // namespace

bool winograd_data_grad_fits(const Geometry& g, size_t elem, int tile) {
  return winograd_forward_supported(g) && make_plan(g, elem, 1, tile).within;
}

// The forward's rule (winograd_automatic_suits), with the data gradient's tiles, in float
// only. Measured on Zen 4 (bench_core, ms of the data gradient, direct vs Winograd,
// float 1 thread, 2 threads): DCGAN 512 -> 256 at 4x4, N=64: 49.5 vs 47.9, 25.5 vs 23.1;
// 256 -> 128 at 8x8: 52.8 vs 38.8, 26.1 vs 20.2; NHWC 128 -> 64 at 16x16, N=16: 11.9 vs
// 8.6, 6.6 vs 4.5. In double the products of all phases (inner dimension 4 x 256 for
// the first) hold fewer tiles per chunk, and every chunk reads all of U again: 96 vs 145
// ms there, 98 vs 93 for the second; NHWC 27.4 vs 19.0.
bool winograd_data_grad_preferred(const Geometry& g, size_t elem) {
  if (elem != sizeof(float) || !winograd_automatic_suits(g)) return false;
  const Plan p = make_plan(g, elem, 1);
  return p.within &&
         p.tiles_per_sample * p.batch * p.m[0] * p.m[1] * p.m[2] >= kWinogradMinOutputs;
}

template <typename T, typename IO>
void winograd_data_grad(const Geometry& g, const IO* out_grad, const IO* weight, IO* data_grad,
                        const RunOptions& opts, InterruptPoll& poll, RunStats* stats) {
  const int threads = resolve_threads(opts.threads, g.multiply_adds());
  const Plan p = make_plan(g, sizeof(T), threads, winograd::requested_tile(opts));
  const size_t elems =
      static_cast<size_t>(p.u_elems + p.v_elems + p.m_elems + p.dys_elems + p.dxs_elems);
  if (stats) {
    stats->temp_bytes = static_cast<int64_t>(elems * sizeof(T));
    stats->winograd_tile = p.tile;
  }
  const Scratch scratch(elems * sizeof(T));
  T* u = scratch.as<T>();
  T* v = u + p.u_elems;
  T* m = v + p.v_elems;
  T* dys = p.staged ? m + p.m_elems : nullptr;
  T* dxs = p.staged ? dys + p.dys_elems : nullptr;
  const SerialBlas serial_blas(threads > 1 || g.multiply_adds() >= kThreadMinWork);
  const GemmBackend backend = gemm_backend<T>();
  int64_t chunks = 0;
  winograd::with_tile(winograd::two_tap_mask(g), p.tile, [&](auto mask, auto tile) {
    const Steps<decltype(mask)::value, decltype(tile)::value, T, IO> steps{g, p, poll};
    steps.run(out_grad, weight, data_grad, u, v, m, dys, dxs, backend, chunks);
  });
}

template void winograd_data_grad<float, float>(const Geometry&, const float*, const float*,
                                               float*, const RunOptions&, InterruptPoll&,
                                               RunStats*);
template void winograd_data_grad<double, double>(const Geometry&, const double*, const double*,
                                                 double*, const RunOptions&, InterruptPoll&,
                                                 RunStats*);
template void winograd_data_grad<float, double>(const Geometry&, const double*, const double*,
                                                double*, const RunOptions&, InterruptPoll&,
                                                RunStats*);

}  // namespace cpu
}  // namespace deconv
