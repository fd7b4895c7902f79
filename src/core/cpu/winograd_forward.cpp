// Winograd F(2, 2) forward on the stride phases (see winograd.h).
//
// Per dimension, output o lies in phase r = (o + pad) mod stride at phase index
// q = (o + pad - r) / stride, and with kernel 2 * stride it takes taps r and r + stride
// from inputs q and q - 1: y[q] = g0 x[q - 1] + g1 x[q] with g0 = w[r + stride],
// g1 = w[r]. F(2, 2) computes y[q0] and y[q0 + 1] from d = x[q0 - 1 .. q0 + 1] as
//   A^T ((G g) * (B^T d)),  B^T d = (d0 - d1, d1, d2 - d1),  G g = (g0, g0 + g1, g1),
//   A^T m = (m0 + m1, m1 + m2),
// nested over the dimensions (a dimension of kernel 1 passes through). Each product of
// a transformed input and filter element is exact up to one rounding, and the output
// transform adds at most 2^d of them per output (d: the dimensions with two taps), each
// bounded by |g| |d| sums the direct form also forms: the error stays within a small
// multiple of the direct sum's (tests/gtest/test_winograd_forward.cpp measures it on
// inputs of large dynamic range).
//
// Phases whose first phase index agrees form a class: they read the same input tiles,
// so one input transform serves the class, and its GEMMs stack the phases' filters:
// per transformed element e, M_e (phases x filters by tiles) = U_e (by channels) times
// V_e (channels by tiles). Tiles are cut into chunks whose V and M fit the workspace.
// Threads share each step: channels for the input transform, (element, block) pairs
// for the GEMMs, (phase, filter) rows for the filter and output transforms.
#include "core/cpu/winograd.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/cpu/scratch.h"
#include "core/cpu/taps.h"
#include "core/cpu/winograd_common.h"
#include "core/cpu/winograd_transforms.h"
#include "core/precision.h"

namespace deconv {
namespace cpu {

namespace {

using winograd::padded;
using winograd::share;
using winograd::Strides;

int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Phases of one dimension whose first phase index is `qlo`, in tiles of m outputs.
struct DimClass {
  int64_t qlo = 0, qhi = 0, tiles = 0;
  std::vector<int64_t> phases;  // each phase's r
};

// One spatial dimension: taps per phase (2, or 1 for kernel 1), outputs per tile m and
// inputs per tile alpha = m + taps - 1.
struct Dim {
  int64_t taps = 1, m = 1, alpha = 1;
  std::vector<DimClass> classes;
};

Dim make_dim(const Geometry& g, int d, int M) {
  Dim x;
  const int64_t out = g.out[d], stride = g.stride[d], pad = g.pad[d];
  x.taps = g.kernel[d] == 1 ? 1 : 2;
  x.m = x.taps == 2 ? M : 1;
  x.alpha = x.m + x.taps - 1;
  for (int64_t r = 0; r < stride; ++r) {
    const int64_t qlo = ceil_div(pad - r, stride);
    const int64_t qhi = floor_div(out - 1 + pad - r, stride);
    if (qhi < qlo) continue;  // no output in this phase
    auto c = std::find_if(x.classes.begin(), x.classes.end(),
                          [&](const DimClass& k) { return k.qlo == qlo; });
    if (c == x.classes.end()) c = x.classes.insert(x.classes.end(), DimClass{qlo, qhi, 0, {}});
    c->qhi = std::max(c->qhi, qhi);
    c->phases.push_back(r);
  }
  for (DimClass& c : x.classes) c.tiles = ceil_div(c.qhi - c.qlo + 1, x.m);
  return x;
}

// A class of the layer: one class per dimension.
struct Class {
  std::array<const DimClass*, 3> dim;
  int64_t phases = 1;            // product of the dimensions' phase counts
  int64_t tiles_per_sample = 1;  // product of their tile counts
};

struct Plan : LayerSizes {
  int tile = 2;  // M: outputs per tile along a two-tap dimension
  std::array<Dim, 3> dims;
  std::vector<Class> classes;
  int64_t elements = 1;     // E: transformed elements per tile (product of alphas)
  int64_t most_phases = 1;  // the largest class's phases
  int64_t u_elems = 0;      // one class's transformed filters: E x phases*Fg x Cg
  int64_t chunk_tiles = 1;  // tiles per chunk
  int64_t v_elems = 0, m_elems = 0;  // a chunk's transformed inputs and products
  bool within = false;      // the temporaries fit the workspace
  int threads = 1;
  Strides x, y;
  // Channels-first layers go through channels-last copies of one group's input and
  // output (so that the transforms read and write whole vectors of channels).
  bool staged = false;
  int64_t xs_elems = 0, ys_elems = 0;
  Strides xs, ys;
};

// `tile`: M asked for, or 0 for F(2, 2). F(4, 2) does 25 / 64 of the direct products
// against F(2, 2)'s 9 / 16, but its transformed filters are 25 / 9 as large and each is
// reused over a quarter of the tiles: on Zen 4 (bench_core, 1 thread, float / double
// ms, F(2, 2) vs F(4, 2)) DCGAN 512 -> 256 at 4x4, N=64: 42.9 vs 62.8 / 85.4 vs 145;
// 256 -> 128 at 8x8: 42.3 vs 41.0 / 80.6 vs 107; NHWC 128 -> 64 at 16x16, N=16: 11.5
// vs 10.3 / 27.1 vs 21.0; FCN 21 -> 21 k16 s8: 1.8 vs 2.4. So it is only taken when
// asked for (RunOptions::winograd_tile, DECONV_WINOGRAD_TILE=4).
Plan make_plan(const Geometry& g, size_t elem, int threads, int tile = 0) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  if (tile != 4) tile = 2;
  p.tile = tile;
  for (int d = 0; d < 3; ++d) {
    p.dims[d] = make_dim(g, d, tile);
    p.elements *= p.dims[d].alpha;
  }
  for (const DimClass& cd : p.dims[0].classes)
    for (const DimClass& ch : p.dims[1].classes)
      for (const DimClass& cw : p.dims[2].classes) {
        Class c{{&cd, &ch, &cw}, 1, 1};
        for (const DimClass* k : c.dim) {
          c.phases *= static_cast<int64_t>(k->phases.size());
          c.tiles_per_sample *= k->tiles;
        }
        p.most_phases = std::max(p.most_phases, c.phases);
        p.classes.push_back(c);
      }
  const int64_t E = p.elements, Cg = p.channels_per_group;
  const int64_t rows = p.most_phases * p.filters_per_group;
  p.u_elems = E * padded(rows * Cg);
  const int64_t per_tile = E * (Cg + rows) + 64;  // + the padding, amortized
  const int64_t most_tiles = [&] {
    int64_t t = 1;
    for (const Class& c : p.classes) t = std::max(t, c.tiles_per_sample * p.batch);
    return t;
  }();
  p.staged = !g.channels_last;
  if (p.staged) {
    p.xs_elems = p.batch * p.in_positions * Cg;
    p.ys_elems = p.batch * p.out_positions * p.filters_per_group;
    p.xs = winograd::strides(true, Cg, g.in);
    p.ys = winograd::strides(true, p.filters_per_group, g.out);
  }
  const winograd::ChunkTiles ct = winograd::chunk_tiles(
      g.workspace_mb, elem, p.u_elems + p.xs_elems + p.ys_elems, per_tile, most_tiles);
  p.chunk_tiles = ct.tiles;
  p.within = ct.within;
  p.v_elems = E * padded(Cg * p.chunk_tiles);
  p.m_elems = E * padded(rows * p.chunk_tiles);
  p.threads = threads;
  p.x = winograd::strides(g.channels_last, p.channels, g.in);
  p.y = winograd::strides(g.channels_last, p.filters, g.out);
  return p;
}

// Walks the tiles of a class in order: sample, then tile per dimension (width fastest).
struct TileCursor {
  const Class& c;
  int64_t n = 0;
  std::array<int64_t, 3> t{};

  TileCursor(const Class& k, int64_t tile) : c(k) {
    n = tile / c.tiles_per_sample;
    int64_t rem = tile - n * c.tiles_per_sample;
    for (int d = 2; d >= 0; --d) {
      t[d] = rem % c.dim[d]->tiles;
      rem /= c.dim[d]->tiles;
    }
  }
  void next() {
    for (int d = 2; d >= 0; --d) {
      if (++t[d] < c.dim[d]->tiles) return;
      t[d] = 0;
    }
    ++n;
  }
};

// Phase j of a class as its r per dimension.
std::array<int64_t, 3> phase_of(const Class& c, int64_t j) {
  std::array<int64_t, 3> r;
  for (int d = 2; d >= 0; --d) {
    const int64_t n = static_cast<int64_t>(c.dim[d]->phases.size());
    r[d] = c.dim[d]->phases[j % n];
    j /= n;
  }
  return r;
}

// The steps of one class and group, for the dimensions with two taps in Mask.
template <int Mask, int M, typename T, typename IO>
struct Steps {
  using W = WinogradTile<Mask, M>;
  static constexpr int E = W::kElements;
  const Geometry& g;
  const Plan& p;
  InterruptPoll& poll;

  // U_e[c][j * Fg + f] for class k of group gi (U_e transposed, so that a channel's
  // weights are read in order): G g G^T of each phase's taps, in double. (Transforming
  // all classes in one pass over the weights read them once, not once per class, but
  // their U no longer stayed in the caches for the products: on Zen 4, DCGAN 512 -> 256
  // in double went from 84-88 to 139-143 ms, float no faster.)
  void filters(const Class& k, int64_t gi, const IO* weight, T* u) const {
    const int64_t Fg = p.filters_per_group, Cg = p.channels_per_group, rows = k.phases * Fg;
    const int64_t tap_step = g.channels_last ? Fg : 1, filter_step = g.channels_last ? 1 : p.taps;
    const std::vector<std::array<int64_t, W::kTaps>> taps = phase_taps(k, tap_step);
    parallel_for(p.threads, Cg, [&](int64_t cl) {
      if (poll.poll()) return;  // the calling thread polls (throttled); others read
      const IO* wc = weight + (gi * Cg + cl) * Fg * p.taps;
      for (int64_t j = 0; j < k.phases; ++j)  // phase j's filters, in vectors
        winograd::transform_filters<Mask, M>(wc, filter_step, taps[j].data(), Fg,
                                             u + cl * rows + j * Fg, padded(Cg * rows));
    });
  }

  // Per phase of class k, the offset of each tap's weight from its filter's first: tap a
  // of a dimension multiplies input q - (taps - 1) + a, kernel index r + (taps - 1 - a) *
  // stride.
  std::vector<std::array<int64_t, W::kTaps>> phase_taps(const Class& k, int64_t tap_step) const {
    std::vector<std::array<int64_t, W::kTaps>> taps(k.phases);
    for (int64_t j = 0; j < k.phases; ++j) {
      const std::array<int64_t, 3> r = phase_of(k, j);
      int i = 0;
      for (int a0 = 0; a0 < W::taps(0); ++a0)
        for (int a1 = 0; a1 < W::taps(1); ++a1)
          for (int a2 = 0; a2 < W::taps(2); ++a2, ++i) {
            const int64_t kd = r[0] + (W::taps(0) - 1 - a0) * g.stride[0];
            const int64_t kh = r[1] + (W::taps(1) - 1 - a1) * g.stride[1];
            const int64_t kw = r[2] + (W::taps(2) - 1 - a2) * g.stride[2];
            // Channels-first weights are [c][f][tap], channels-last [c][tap][f].
            taps[j][i] = ((kd * g.kernel[1] + kh) * g.kernel[2] + kw) * tap_step;
          }
    }
    return taps;
  }

  // V_e[tile - t0][c] for tiles [t0, t0 + nt) of class k, group gi: per tile, the
  // channels in a vector loop (reading a padded position as 0 from a safe address).
  // xg: the group's first channel, laid out as st says.
  template <typename X>
  void inputs(const Class& k, int64_t t0, int64_t nt, const X* xg, const Strides& st,
              T* v) const {
    const int64_t Cg = p.channels_per_group, xs = st.c;
    parallel_region(p.threads, [&] {
      const auto [b, e] = share(nt);
      TileCursor cur(k, t0 + b);
      for (int64_t t = b; t < e; ++t, cur.next()) {
        if ((t - b) % 16 == 0 ? poll.poll() : poll.stopped()) break;
        const X* at[E];
        bool valid[E];
        winograd::patch_pointers<W::alpha(0), W::alpha(1), W::alpha(2)>(
            xg + cur.n * st.n, st.sp, g.in,
            [&](int d, int a) { return k.dim[d]->qlo + W::m(d) * cur.t[d] - (W::taps(d) - 1) + a; },
            at, valid);
        winograd::transform_patch<Mask, M>(at, valid, Cg, xs, v + t * Cg, padded(nt * Cg));
      }
    });
  }

  // A^T M A per tile and (phase, filter), plus the bias, stored where it lands: per tile
  // and phase, the filters in a vector loop.
  // yg: the group's first filter, laid out as st says; bg: its bias (or null).
  template <typename Y>
  void outputs(const Class& k, int64_t t0, int64_t nt, const T* m, const T* bg, Y* yg,
               const Strides& st) const {
    const int64_t Fg = p.filters_per_group, rows = k.phases * Fg, ys = st.c;
    std::vector<std::array<int64_t, 3>> phases(k.phases);
    for (int64_t j = 0; j < k.phases; ++j) phases[j] = phase_of(k, j);
    parallel_region(p.threads, [&] {
      const auto [b, e] = share(nt);
      TileCursor cur(k, t0 + b);
      for (int64_t t = b; t < e; ++t, cur.next()) {
        if ((t - b) % 16 == 0 ? poll.poll() : poll.stopped()) break;
        for (int64_t j = 0; j < k.phases; ++j) {
          const std::array<int64_t, 3>& r = phases[j];
          Y* at[W::kOutputs];
          bool valid[W::kOutputs];
          winograd::patch_pointers<W::m(0), W::m(1), W::m(2)>(
              yg + cur.n * st.n, st.sp, g.out,
              [&](int d, int b) {
                return (k.dim[d]->qlo + W::m(d) * cur.t[d] + b) * g.stride[d] + r[d] - g.pad[d];
              },
              at, valid);
          winograd::untransform_tile<Mask, M>(m + t * rows + j * Fg, padded(nt * rows), Fg, bg,
                                              at, valid, ys);
        }
      }
    });
  }

  // Every class of every group, chunk by chunk; xs and ys: the staged copies (or null).
  void run(const IO* data, const IO* weight, const T* bias, IO* out, T* u, T* v, T* m,
           T* xs, T* ys, GemmBackend backend, int64_t& chunks) const {
    const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group;
    for (int64_t gi = 0; gi < p.groups; ++gi) {
      const IO* xg = data + gi * Cg * p.x.c;
      IO* yg = out + gi * Fg * p.y.c;
      const T* bg = bias ? bias + gi * Fg : nullptr;
      if (p.staged) {
        // [n][c][s] -> [n][s][c]
        winograd::transpose(p.threads, p.batch, Cg, p.in_positions, xg, p.x.n, xs, p.xs.n, poll);
      }
      for (const Class& k : p.classes) {
        if (poll.poll()) return;
        filters(k, gi, weight, u);
        const int64_t tiles = k.tiles_per_sample * p.batch;
        for (int64_t t0 = 0; t0 < tiles && !poll.poll(); t0 += p.chunk_tiles, ++chunks) {
          const int64_t nt = std::min(p.chunk_tiles, tiles - t0);
          if (p.staged) inputs(k, t0, nt, xs, p.xs, v);
          else inputs(k, t0, nt, xg, p.x, v);
          // M_e (tiles x phases*Fg) = V_e (by channels) U_e
          winograd::products(p.threads, E, nt, k.phases * Fg, Cg, v, u, m, backend, poll);
          if (p.staged) outputs(k, t0, nt, m, bg, ys, p.ys);
          else outputs(k, t0, nt, m, bg, yg, p.y);
        }
      }
      if (p.staged && !poll.stopped()) {
        // [n][s][f] -> [n][f][s]
        winograd::transpose(p.threads, p.batch, p.out_positions, Fg, ys, p.ys.n, yg, p.y.n, poll);
      }
    }
  }
};

}  // namespace

bool winograd_forward_supported(const Geometry& g) {
  bool any = false;
  for (int d = 0; d < 3; ++d) {
    const bool unit = g.kernel[d] == 1 && g.stride[d] == 1;
    const bool two_taps = g.kernel[d] == 2 * g.stride[d] && g.dilate[d] == 1;
    if (!unit && !two_taps) return false;
    any = any || two_taps;
  }
  return any && g.batch > 0 && g.channels > 0 && g.out_size() > 0;
}

bool winograd_forward_fits(const Geometry& g, size_t elem, int tile) {
  return winograd_forward_supported(g) && make_plan(g, elem, 1, tile).within;
}

// Measured on Zen 4 (AVX-512, OpenBLAS 0.3.21), ms direct (GEMM + col2im) vs Winograd,
// float / double, 1 thread (2 threads):
// - DCGAN 512 -> 256 at 4x4, N=64: 51.4 vs 43.0 / 139 vs 82.3 (30.8 vs 22.8 / 77.6 vs
//   45.9); 256 -> 128 at 8x8: 49.1 vs 43.3 / 135 vs 79.7 (47.3 vs 22.3 / 85.0 vs 41.4);
//   the same at N=16: 12.5 vs 11.0 / 34.1 vs 20.6; NHWC 128 -> 64 at 16x16, N=16: 13.7
//   vs 11.4 / 25.8 vs 24.0 (13.6 vs 6.7 / 17.4 vs 11.4).
// - Lose: few tiles per filter transform (N=1: 1024 -> 512 at 8x8 14.9 vs 47.9; 256 ->
//   128 at 8x8 N=4 3.0 vs 4.0 in float), few filters (DCGAN's 64 -> 3: 8.7 vs 40.7),
//   few channels (FCN 21 -> 21: 1.2 vs 2.1; 4 groups of 32: 2.0 vs 3.8), depthwise, and
//   1D (F(2, 2) saves a quarter: 256 -> 128 k16 s8 at 1024, N=8: 104 vs 141).
constexpr int64_t kMinChannels = 128, kMinFilters = 64;

bool winograd_automatic_suits(const Geometry& g) {
  if (g.channels_per_group() < kMinChannels || g.filters_per_group() < kMinFilters) return false;
  int two_tap_dims = 0;
  for (int d = 0; d < 3; ++d) two_tap_dims += g.kernel[d] != 1;
  return two_tap_dims >= 2 && winograd_forward_supported(g);
}

bool winograd_forward_preferred(const Geometry& g, size_t elem) {
  if (!winograd_automatic_suits(g)) return false;
  const Plan p = make_plan(g, elem, 1);
  int64_t fewest = INT64_MAX;
  for (const Class& c : p.classes) fewest = std::min(fewest, c.tiles_per_sample * p.batch);
  int64_t outputs = 1;  // per tile and phase
  for (const Dim& d : p.dims) outputs *= d.m;
  return p.within && fewest * outputs >= kWinogradMinOutputs;
}

template <typename T, typename IO>
void winograd_forward(const Geometry& g, const IO* data, const IO* weight, const IO* bias,
                      IO* out, const RunOptions& opts, RunStats* stats) {
  const int threads = resolve_threads(opts.threads, g.multiply_adds());
  const Plan p = make_plan(g, sizeof(T), threads, winograd::requested_tile(opts));
  const size_t elems =
      static_cast<size_t>(p.u_elems + p.v_elems + p.m_elems + p.xs_elems + p.ys_elems);
  if (stats) {
    *stats = RunStats{};
    stats->temp_bytes = static_cast<int64_t>(elems * sizeof(T));
    stats->tile = p.chunk_tiles;
    stats->input_positions = p.in_positions;
    stats->winograd = true;
    stats->winograd_tile = p.tile;
  }
  InterruptPoll poll(opts);
  const Scratch scratch(elems * sizeof(T));
  T* u = scratch.as<T>();
  T* v = u + p.u_elems;
  T* m = v + p.v_elems;
  T* xs = p.staged ? m + p.m_elems : nullptr;
  T* ys = p.staged ? xs + p.xs_elems : nullptr;
  std::vector<T> bias_t;
  const T* bias_row = as_type<T>(bias, p.filters, bias_t);
  const SerialBlas serial_blas(threads > 1 || g.multiply_adds() >= kThreadMinWork);
  const GemmBackend backend = gemm_backend<T>();
  int64_t chunks = 0;
  winograd::with_tile(winograd::two_tap_mask(g), p.tile, [&](auto mask, auto tile) {
    const Steps<decltype(mask)::value, decltype(tile)::value, T, IO> steps{g, p, poll};
    steps.run(data, weight, bias_row, out, u, v, m, xs, ys, backend, chunks);
  });
  if (stats) stats->chunks = chunks;
  poll.finish();
}

template void winograd_forward<float, float>(const Geometry&, const float*, const float*,
                                             const float*, float*, const RunOptions&,
                                             RunStats*);
template void winograd_forward<double, double>(const Geometry&, const double*, const double*,
                                               const double*, double*, const RunOptions&,
                                               RunStats*);
template void winograd_forward<float, double>(const Geometry&, const double*, const double*,
                                              const double*, double*, const RunOptions&,
                                              RunStats*);

}  // namespace cpu
}  // namespace deconv
