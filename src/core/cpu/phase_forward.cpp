// Phase-decomposed forward (see phase_forward.h). Output position o of a dimension
// takes input i = (o + pad - k * dilate) / stride through tap k when that division is
// exact and i is inside the input. Along depth and height the valid (k, i) pairs are
// listed per output index; along width they depend only on the phase r = ow mod
// stride, and input i = q + off for outputs ow = q * stride + r, so a phase's outputs
// read consecutive inputs and the kernel (phase_kernel.inc) vectorises along q. The
// input is copied with zeros around each row, so no tap needs a bounds check.
// Threads share (sample, group, output row) tasks; every task writes its own rows.
#include "core/cpu/phase_forward.h"

#include <algorithm>
#include <vector>

#include "core/cpu/phase_kernel.h"
#include "core/cpu/scratch.h"
#include "core/cpu/taps.h"
#include "core/precision.h"

namespace deconv {
namespace cpu {

namespace {

// Valid (tap, input index) pairs of every output index of one dimension.
IndexTaps dim_taps(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilate,
                 int64_t pad) {
  IndexTaps t;
  t.begin.reserve(out + 1);
  for (int64_t o = 0; o < out; ++o) {
    t.begin.push_back(static_cast<int64_t>(t.pairs.size()));
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t v = o + pad - k * dilate;
      if (v < 0 || v % stride) continue;
      if (v / stride < in) t.pairs.emplace_back(k, v / stride);
    }
  }
  t.begin.push_back(static_cast<int64_t>(t.pairs.size()));
  return t;
}

// The width phases, their taps, and the zero padding each input row needs on its left
// and right so that every block of the kernel reads inside the padded row.
struct WidthPlan {
  std::vector<WidthPhase> phases;
  std::vector<int64_t> kw, off;
  int64_t left = 0, right = 0;
};

WidthPlan width_plan(const Geometry& g) {
  WidthPlan w;
  const int64_t W = g.in[2], Wo = g.out[2], sw = g.stride[2];
  for (int64_t r = 0; r < std::min(sw, Wo); ++r) {
    WidthPhase ph{r, (Wo - r + sw - 1) / sw, static_cast<int64_t>(w.kw.size()), 0};
    const int64_t blocks_end = (ph.count + kPhaseBlock - 1) / kPhaseBlock * kPhaseBlock;
    for (int64_t k = 0; k < g.kernel[2]; ++k) {
      const int64_t v = r + g.pad[2] - k * g.dilate[2];
      if (floor_div(v, sw) * sw != v) continue;
      const int64_t off = v / sw;
      // Taps whose inputs all lie outside the row contribute nothing.
      if (off + ph.count - 1 < 0 || off >= W) continue;
      w.kw.push_back(k);
      w.off.push_back(off);
      w.left = std::max(w.left, -off);
      w.right = std::max(w.right, blocks_end - 1 + off - (W - 1));
    }
    ph.end = static_cast<int64_t>(w.kw.size());
    w.phases.push_back(ph);
  }
  return w;
}

// The layer's sizes, its extents, and how the padded input is built.
struct Plan : LayerSizes {
  int64_t in_depth, in_height, in_width;
  int64_t out_depth, out_height, out_width;
  int64_t row_len;     // elements of a padded input row: left + in_width + right
  int64_t units;       // (sample, group) pairs whose padded input is built at a time
  bool within;         // the temporaries fit the workspace (else one unit's do)
  int threads;
  int64_t pad_elems, weight_elems;
};

// The padded input is built for a few (sample, group) units at a time: as many as the
// workspace holds beside the reordered weights, at least one (as the GEMM path's
// minimal chunk may exceed a tiny workspace).
Plan make_plan(const Geometry& g, const WidthPlan& wp, size_t elem, int threads) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  p.in_depth = g.in[0];
  p.in_height = g.in[1];
  p.in_width = g.in[2];
  p.out_depth = g.out[0];
  p.out_height = g.out[1];
  p.out_width = g.out[2];
  p.row_len = wp.left + p.in_width + wp.right;
  p.weight_elems = p.channels * p.filters_per_group * p.taps;
  const int64_t per_unit =
      std::max<int64_t>(1, p.channels_per_group * p.in_depth * p.in_height * p.row_len);
  const PhaseUnits u =
      phase_units(g.workspace_mb, elem, per_unit, p.weight_elems, p.batch * p.groups);
  p.units = u.units;
  p.within = u.within;
  p.pad_elems = p.units * per_unit;
  p.threads = threads;
  return p;
}

// Weights reordered per group to [c][kd][kh][kw][filter], so a tap's filters are
// adjacent (MXNet's layout is [c][filter][kd][kh][kw]), as T.
template <typename T, typename IO>
void reorder_weights(const Plan& p, const IO* weight, T* out) {
  const int64_t Fg = p.filters_per_group, K = p.taps;
  for (int64_t c = 0; c < p.channels; ++c)
    for (int64_t f = 0; f < Fg; ++f)
      for (int64_t t = 0; t < K; ++t)
        out[(c * K + t) * Fg + f] = static_cast<T>(weight[(c * Fg + f) * K + t]);
}

}  // namespace

bool phase_forward_fits(const Geometry& g, size_t elem) {
  return !g.channels_last && make_plan(g, width_plan(g), elem, 1).within;
}

// Both paths do the same products per output; GEMM + col2im also writes and scatters
// K / stride^d column elements per output, the phase kernel reuses each loaded input for
// at most 8 filters. So the taps cancel and the channels per group decide: the phase path
// wins up to 32 of them on rows of at least 16 outputs per phase. Measured (ms GEMM vs
// phase, float / double, best of alternating rounds):
// - AMD EPYC (AVX2, OpenBLAS), 1 and 2 threads: k2 s2 64x64 N=8, C -> C/2: C = 16:
//   8.6 vs 6.6 / 14.5 vs 5.9 (1 thread); C = 32: 20.4 vs 17.0 / 26.6 vs 19.2, 2 threads
//   12.8 vs 10.8 / 15.5 vs 10.5; C = 64 (U-Net) loses: 50 vs 55 / 58 vs 70, 2 threads
//   30.5 vs 31.4 / 33.8 vs 40.7. k4 s2 p1 32 -> 32 at 32x32 N=4: 8.8 vs 8.4 / 16.3 vs
//   14.9, 2 threads 8.6 vs 4.8 / 10.7 vs 8.1. Stride 1 k3 16 -> 16 at 48x48 N=2: 1.9 vs
//   1.3 / 2.5 vs 2.2; 64 -> 64: 16.7 vs 16.9 / 25.8 vs 32.4 (2 threads 11.1 vs 9.4 /
//   14.9 vs 17.0). FCN 21 -> 21 k4 s2 at 34x34 N=4: 6.5 vs 6.9 / 7.2 vs 8.8 on one
//   thread, 6.4 vs 4.1 / 5.7 vs 5.3 on two.
// - Intel Xeon (AVX-512, own GEMM), one thread: FCN 21 -> 21 k4 s2 at 32x32: 1.5 vs 1.0
//   / 1.9 vs 1.2; 8 -> 8 k4 s2 at 64x64, N=4: 6.0 vs 3.9 / 9.0 vs 4.5; 32 groups of 4:
//   18 vs 14 / 23 vs 8.4; depthwise 64 channels at 32x32, N=16: 34 vs 23 / 31 vs 20;
//   U-Net 64 -> 32 k2 s2: 31 vs 36 / 31 vs 44 and stride 1 64 -> 64 k3: 4.1 vs 5.0 /
//   6.8 vs 6.7 lose; DCGAN 512 -> 256 at 4x4: 68 vs 1394 ms float.
// (The rule before counted channels x taps per phase, up to 96: it sent U-Net to the
// phase path and k4 s2 layers of 32 channels, or stride 1 of 16, to GEMM.)
// Since the kernel keeps every accumulator in registers on AVX2 (12, not 16) and
// broadcasts weights from memory, phases with 3 or more width taps per entry win up to 64
// channels (one thread, float / double): stride 1 k3 64 -> 64 at 48x48 N=2 12.8 vs 11.6
// / 25.5 vs 24.1 (2 threads 7.1 vs 6.4 / 13.5 vs 12.6), dilated k3 s2 d2 64 -> 64 at
// 32x32 N=4 12.0 vs 12.3 / 25.8 vs 22.8 (2 threads 10.4 vs 7.0 / 14.6 vs 12.9); one or
// two taps still lose there (U-Net 25.7 vs 32.4, 128 -> 3 k4 s2 13.6 vs 19.1).
constexpr int64_t kPhaseMaxChannels = 32;
constexpr int64_t kPhaseMaxChannelsManyTaps = 64;
constexpr int64_t kPhaseManyTaps = 3;

bool phase_forward_preferred(const Geometry& g, size_t elem) {
  if (g.out[2] / g.stride[2] < 16) return false;
  const int64_t cg = g.channels_per_group();
  if (cg > kPhaseMaxChannelsManyTaps) return false;
  if (cg > kPhaseMaxChannels) {
    const WidthPlan wp = width_plan(g);
    int64_t most = 0;
    for (const WidthPhase& ph : wp.phases) most = std::max(most, ph.end - ph.begin);
    if (most < kPhaseManyTaps) return false;
  }
  return phase_forward_fits(g, elem);
}

template <typename T, typename IO>
void phase_forward(const Geometry& g, const IO* data, const IO* weight, const IO* bias,
                   IO* out, const RunOptions& opts, RunStats* stats) {
  const WidthPlan wp = width_plan(g);
  const int threads = resolve_threads(opts.threads, g.multiply_adds());
  const Plan p = make_plan(g, wp, sizeof(T), threads);
  const IndexTaps dt =
      dim_taps(p.in_depth, p.out_depth, g.kernel[0], g.stride[0], g.dilate[0], g.pad[0]);
  const IndexTaps ht =
      dim_taps(p.in_height, p.out_height, g.kernel[1], g.stride[1], g.dilate[1], g.pad[1]);
  const Scratch scratch(static_cast<size_t>(p.pad_elems + p.weight_elems) * sizeof(T));
  T* xpad = scratch.as<T>();
  T* wr = xpad + p.pad_elems;
  const int64_t total_units = p.batch * p.groups;
  if (stats) {
    *stats = RunStats{};
    stats->temp_bytes = (p.pad_elems + p.weight_elems) * static_cast<int64_t>(sizeof(T));
    stats->chunk_samples = std::max<int64_t>(1, p.units / p.groups);
    stats->input_positions = stats->tile = p.in_depth * p.in_height * p.in_width;
    stats->chunks = (total_units + p.units - 1) / p.units;
    stats->phase = true;
  }
  InterruptPoll poll(opts);
  reorder_weights(p, weight, wr);
  std::vector<T> bias_t;
  const T* bias_row = as_type<T>(bias, p.filters, bias_t);
  const PhaseRowKernel<T, IO> kernel = phase_row_kernel<T, IO>();
  const int64_t rows_in = p.in_depth * p.in_height, rows_out = p.out_depth * p.out_height;
  const int64_t So = rows_out * p.out_width;
  const int64_t unit_rows = p.channels_per_group * rows_in;  // padded rows per (sample, group)
  for (int64_t u0 = 0; u0 < total_units && !poll.poll(); u0 += p.units) {
    const int64_t nu = std::min(p.units, total_units - u0);
    // Padded copy of the chunk's input rows: unit u's channels are consecutive in the
    // input (channels-first, groups contiguous), so its rows are too.
    parallel_for(p.threads, nu * unit_rows, [&](int64_t i) {
      T* dst = xpad + i * p.row_len;
      std::fill_n(dst, wp.left, T(0));
      std::copy_n(data + (u0 * unit_rows + i) * p.in_width, p.in_width, dst + wp.left);
      std::fill_n(dst + wp.left + p.in_width, wp.right, T(0));
    });
    const int64_t tasks = nu * rows_out;
    parallel_region(p.threads, [&] {
      std::vector<const T*> xs, ws;
      xs.reserve(p.channels_per_group * g.kernel[0] * g.kernel[1]);
      ws.reserve(p.channels_per_group * g.kernel[0] * g.kernel[1]);
#pragma omp for schedule(dynamic, 4)
      for (int64_t task = 0; task < tasks; ++task) {
        if (poll.poll()) continue;
        const int64_t row = task % rows_out, u = task / rows_out;
        const int64_t gi = (u0 + u) % p.groups;
        const int64_t od = row / p.out_height, oh = row % p.out_height;
        xs.clear();
        ws.clear();
        for (int64_t c = 0; c < p.channels_per_group; ++c) {
          const T* xc = xpad + (u * unit_rows + c * rows_in) * p.row_len + wp.left;
          const T* wc = wr + (gi * p.channels_per_group + c) * p.taps * p.filters_per_group;
          for (int64_t a = dt.begin[od]; a < dt.begin[od + 1]; ++a) {
            const auto [kd, id] = dt.pairs[a];
            for (int64_t b = ht.begin[oh]; b < ht.begin[oh + 1]; ++b) {
              const auto [kh, ih] = ht.pairs[b];
              xs.push_back(xc + (id * p.in_height + ih) * p.row_len);
              ws.push_back(wc + (kd * g.kernel[1] + kh) * g.kernel[2] * p.filters_per_group);
            }
          }
        }
        PhaseRow<T, IO> r;
        r.x = xs.data();
        r.w = ws.data();
        r.entries = static_cast<int64_t>(xs.size());
        r.bias = bias_row ? bias_row + gi * p.filters_per_group : nullptr;
        // Unit u0 + u is sample n, group gi: its filters' planes are consecutive.
        r.y = out + (u0 + u) * p.filters_per_group * So + row * p.out_width;
        r.filter_stride = So;
        r.filters = p.filters_per_group;
        r.phases = wp.phases.data();
        r.phase_count = static_cast<int64_t>(wp.phases.size());
        r.stride_w = g.stride[2];
        r.kw = wp.kw.data();
        r.off = wp.off.data();
        kernel(r);
      }
    });
  }
  poll.finish();
}

template void phase_forward<float, float>(const Geometry&, const float*, const float*,
                                          const float*, float*, const RunOptions&, RunStats*);
template void phase_forward<double, double>(const Geometry&, const double*, const double*,
                                            const double*, double*, const RunOptions&,
                                            RunStats*);
template void phase_forward<float, double>(const Geometry&, const double*, const double*,
                                           const double*, double*, const RunOptions&,
                                           RunStats*);

}  // namespace cpu
}  // namespace deconv
