// The data gradient as a direct strided convolution (see phase_backward.h). Input
// position i of a dimension receives dY at o = i * stride - pad + k * dilate through tap
// k, for the o inside dY. Along depth and height those (k, o) pairs are listed per dX
// index; along width, o = (i + off) * stride + r with r and off fixed by the tap, so dY
// is copied split into its stride phases (row r holds dY[q * stride + r]), zero-padded,
// and every tap reads consecutive values of one phase row. The phase kernel then
// accumulates each dX row over (filter, kd, kh, kw) entries, vectorised along the width,
// for blocks of up to 8 channels: the same kernel as the forward, with one tap per entry.
// Threads share (sample, group, dX row) tasks; every task writes its own rows.
#include "core/cpu/phase_backward.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/cpu/phase_kernel.h"
#include "core/cpu/scratch.h"
#include "core/cpu/taps.h"

namespace deconv {
namespace cpu {

namespace {

// The (tap, dY index) pairs of every dX index of one dimension.
IndexTaps gradient_taps(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                        int64_t dilate, int64_t pad) {
  IndexTaps t;
  t.begin.reserve(in + 1);
  for (int64_t i = 0; i < in; ++i) {
    t.begin.push_back(static_cast<int64_t>(t.pairs.size()));
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t o = i * stride - pad + k * dilate;
      if (o >= 0 && o < out) t.pairs.emplace_back(k, o);
    }
  }
  t.begin.push_back(static_cast<int64_t>(t.pairs.size()));
  return t;
}

// dY's width phases and the width taps that reach a dX value: tap kw[j] reads phase row
// phase[j] at iw + off[j]. A phase row is `left` zeros, the phase's count[r] values and
// zeros up to row_len, so every kernel block reads inside it.
struct GradientWidth {
  std::vector<int64_t> count;
  std::vector<int64_t> kw, phase, off;
  int64_t left = 0, row_len = 0;
};

GradientWidth gradient_width(const Geometry& g) {
  GradientWidth w;
  const int64_t W = g.in[2], Wo = g.out[2], sw = g.stride[2];
  const int64_t blocks_end = (W + kPhaseBlock - 1) / kPhaseBlock * kPhaseBlock;
  int64_t reach = 0;  // values a phase row holds past `left`
  for (int64_t r = 0; r < sw; ++r) {
    w.count.push_back(r < Wo ? (Wo - r + sw - 1) / sw : 0);
    reach = std::max(reach, w.count.back());
  }
  for (int64_t k = 0; k < g.kernel[2]; ++k) {
    const int64_t c = k * g.dilate[2] - g.pad[2];
    const int64_t off = floor_div(c, sw), r = c - off * sw;
    // Taps whose reads all miss the phase's values contribute nothing.
    if (off + W - 1 < 0 || off >= w.count[r]) continue;
    w.kw.push_back(k);
    w.phase.push_back(r);
    w.off.push_back(off);
    w.left = std::max(w.left, -off);
    reach = std::max(reach, blocks_end + off);
  }
  w.row_len = w.left + reach;
  return w;
}

struct Plan : LayerSizes {
  int64_t rows_in, rows_out, in_width, out_width, stride_w;
  int64_t unit_elems;  // split dY of one (sample, group)
  int64_t units;       // (sample, group) pairs split at a time
  bool within;         // the temporaries fit the workspace (else one unit's do)
  int threads;
  int64_t split_elems, weight_elems;
};

// As the forward's plan: as many units as the workspace holds beside the reordered
// weights, at least one.
Plan make_plan(const Geometry& g, const GradientWidth& gw, size_t elem, int threads) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  p.rows_in = g.in[0] * g.in[1];
  p.rows_out = g.out[0] * g.out[1];
  p.in_width = g.in[2];
  p.out_width = g.out[2];
  p.stride_w = g.stride[2];
  p.weight_elems = p.channels * p.filters_per_group * p.taps;
  p.unit_elems =
      std::max<int64_t>(1, p.filters_per_group * p.rows_out * p.stride_w * gw.row_len);
  const PhaseUnits u =
      phase_units(g.workspace_mb, elem, p.unit_elems, p.weight_elems, p.batch * p.groups);
  p.units = u.units;
  p.within = u.within;
  p.split_elems = p.units * p.unit_elems;
  p.threads = threads;
  return p;
}

// Weights reordered to [group][filter][kd][kh][kw][channel], so a tap's channels (the
// outputs of this convolution) are adjacent; MXNet's layout is [c][filter][kd][kh][kw].
template <typename T, typename IO>
void reorder_weights(const Plan& p, const IO* weight, T* out) {
  const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group, K = p.taps;
  for (int64_t gi = 0; gi < p.groups; ++gi)
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t f = 0; f < Fg; ++f)
        for (int64_t t = 0; t < K; ++t)
          out[((gi * Fg + f) * K + t) * Cg + c] =
              static_cast<T>(weight[(((gi * Cg + c) * Fg) + f) * K + t]);
}

// Row `i` of the chunk's dY rows, split into its stride phases at dst.
template <typename T, typename IO>
void split_row(const GradientWidth& gw, const Plan& p, const IO* dy, T* dst) {
  for (int64_t r = 0; r < p.stride_w; ++r, dst += gw.row_len) {
    const int64_t n = gw.count[r];
    std::fill_n(dst, gw.left, T(0));
    for (int64_t q = 0; q < n; ++q) dst[gw.left + q] = static_cast<T>(dy[q * p.stride_w + r]);
    std::fill(dst + gw.left + n, dst + gw.row_len, T(0));
  }
}

}  // namespace

bool phase_backward_fits(const Geometry& g, size_t elem) {
  return !g.channels_last && make_plan(g, gradient_width(g), elem, 1).within;
}

// Measured against im2col + GEMM (AMD EPYC Zen 1, AVX2, OpenBLAS; bench_core
// --gradients=data / all, one thread, ms GEMM vs direct, float / double):
// - with the weight gradient wanted too, GEMM wins: its im2col of dY serves both
//   gradients, so the direct dX saves only the dX GEMM while dW still needs the
//   columns (full backward: FCN 21 -> 21 k4 s2 34x34 N=4 6.9 vs 9.2 float, U-Net 50 vs
//   58, dcgan3 17 vs 26);
// - dX alone, 1D and 2D layers of up to 32 filters per group: bilinear 8x8 s4
//   depthwise 8.4 vs 6.2 / 9.6 vs 9.0, FCN k4 s2 32x32 0.82 vs 0.59 / 1.54 vs 1.02,
//   FCN k16 s8 5.0 vs 3.0 / 7.3 vs 7.0, grouped 4 x 32 7.0 vs 6.2 / 12.7 vs 13.4, U-Net
//   27 vs 26 / 47 vs 54, 128 -> 3 k4 s2 9.2 vs 9.7 / 23 vs 19, FCN at 34x34 3.5 vs 3.6 /
//   6.3 vs 6.6, depthwise 16 x 64 k4 s2 17.4 vs 11.9 / 20.3 vs 23.7 (geometric mean
//   1.1x); 3D layers lose (U-Net 3D 64 -> 32 k2 s2 at 16^3:
//   14.6 vs 23 / 22 vs 50), as do 64 filters (stride 1 k3: 12.5 vs 10.5 wins, but its
//   weight gradient is the usual request).
constexpr int64_t kPhaseMaxFilters = 32;

bool phase_backward_preferred(const Geometry& g, size_t elem, bool weight_grad) {
  if (weight_grad || g.rank > 2 || g.filters_per_group() > kPhaseMaxFilters || g.in[2] < 16)
    return false;
  return phase_backward_fits(g, elem);
}

template <typename T, typename IO>
void phase_data_gradient(const Geometry& g, const IO* out_grad, const IO* weight,
                         IO* data_grad, const RunOptions& opts, InterruptPoll& poll,
                         RunStats* stats) {
  const GradientWidth gw = gradient_width(g);
  const Plan p = make_plan(g, gw, sizeof(T), resolve_threads(opts.threads));
  const IndexTaps dt =
      gradient_taps(g.in[0], g.out[0], g.kernel[0], g.stride[0], g.dilate[0], g.pad[0]);
  const IndexTaps ht =
      gradient_taps(g.in[1], g.out[1], g.kernel[1], g.stride[1], g.dilate[1], g.pad[1]);
  const Scratch scratch(static_cast<size_t>(p.split_elems + p.weight_elems) * sizeof(T));
  T* split = scratch.as<T>();
  T* wr = split + p.split_elems;
  if (stats) {
    stats->temp_bytes = std::max(stats->temp_bytes, (p.split_elems + p.weight_elems) *
                                                        static_cast<int64_t>(sizeof(T)));
    stats->phase_data_grad = true;
  }
  reorder_weights(p, weight, wr);
  const PhaseRowKernel<T, IO> kernel = phase_row_kernel<T, IO>();
  const WidthPhase whole{0, p.in_width, 0, 1};  // every dX of a row, through one tap
  const int64_t zero = 0;
  const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group;
  const int64_t split_row_len = p.stride_w * gw.row_len;
  const int64_t unit_rows = Fg * p.rows_out;  // dY rows per (sample, group)
  const int64_t total_units = p.batch * p.groups;
  for (int64_t u0 = 0; u0 < total_units && !poll.poll(); u0 += p.units) {
    const int64_t nu = std::min(p.units, total_units - u0);
    // Unit u's filters are consecutive in dY (channels-first, groups contiguous).
#pragma omp parallel for num_threads(p.threads) if (p.threads > 1)
    for (int64_t i = 0; i < nu * unit_rows; ++i) {
      split_row(gw, p, out_grad + (u0 * unit_rows + i) * p.out_width, split + i * split_row_len);
    }
    const int64_t tasks = nu * p.rows_in;
#pragma omp parallel num_threads(p.threads) if (p.threads > 1)
    {
      std::vector<const T*> xs, ws;
      xs.reserve(Fg * g.kernel_size());
      ws.reserve(Fg * g.kernel_size());
#pragma omp for schedule(dynamic, 4)
      for (int64_t task = 0; task < tasks; ++task) {
        if (poll.poll()) continue;
        const int64_t row = task % p.rows_in, u = task / p.rows_in;
        const int64_t gi = (u0 + u) % p.groups;
        const int64_t id = row / g.in[1], ih = row % g.in[1];
        xs.clear();
        ws.clear();
        for (int64_t f = 0; f < Fg; ++f) {
          const T* yf = split + (u * unit_rows + f * p.rows_out) * split_row_len + gw.left;
          const T* wf = wr + (gi * Fg + f) * p.taps * Cg;
          for (int64_t a = dt.begin[id]; a < dt.begin[id + 1]; ++a) {
            const auto [kd, od] = dt.pairs[a];
            for (int64_t b = ht.begin[ih]; b < ht.begin[ih + 1]; ++b) {
              const auto [kh, oh] = ht.pairs[b];
              const T* yr = yf + (od * g.out[1] + oh) * split_row_len;
              const T* wt = wf + (kd * g.kernel[1] + kh) * g.kernel[2] * Cg;
              for (size_t j = 0; j < gw.kw.size(); ++j) {
                xs.push_back(yr + gw.phase[j] * gw.row_len + gw.off[j]);
                ws.push_back(wt + gw.kw[j] * Cg);
              }
            }
          }
        }
        PhaseRow<T, IO> r;
        r.x = xs.data();
        r.w = ws.data();
        r.entries = static_cast<int64_t>(xs.size());
        r.bias = nullptr;
        // Unit u0 + u is sample n, group gi: its channels' planes are consecutive.
        r.y = data_grad + ((u0 + u) * Cg * p.rows_in + row) * p.in_width;
        r.filter_stride = p.rows_in * p.in_width;
        r.filters = Cg;
        r.phases = &whole;
        r.phase_count = 1;
        r.stride_w = 1;
        r.kw = &zero;
        r.off = &zero;
        kernel(r);
      }
    }
  }
}

template void phase_data_gradient<float, float>(const Geometry&, const float*, const float*,
                                                float*, const RunOptions&, InterruptPoll&,
                                                RunStats*);
template void phase_data_gradient<double, double>(const Geometry&, const double*,
                                                  const double*, double*, const RunOptions&,
                                                  InterruptPoll&, RunStats*);
template void phase_data_gradient<float, double>(const Geometry&, const double*,
                                                 const double*, double*, const RunOptions&,
                                                 InterruptPoll&, RunStats*);

}  // namespace cpu
}  // namespace deconv
