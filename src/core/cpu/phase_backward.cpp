// The data and weight gradients computed directly (see phase_backward.h).
// Data gradient: a strided convolution of dY. Input position i of a dimension receives
// dY at o = i * stride - pad + k * dilate through tap k, for the o inside dY. Along
// depth and height those (k, o) pairs are listed per dX index; along width, o = (i +
// off) * stride + r with r and off fixed by the tap, so dY is copied split into its
// stride phases (row r holds dY[q * stride + r]), zero-padded, and every tap reads
// consecutive values of one phase row. The phase kernel then accumulates each dX row
// over (filter, kd, kh, kw) entries, vectorised along the width, for blocks of up to 8
// channels: the same kernel as the forward, with one tap per entry. Threads share
// (sample, group, dX row) tasks; every task writes its own rows.
// Weight gradient: from the same split rows, dW[c, f, kd, kh, kw] is the sum over
// samples and data rows of the dot product of X's row with the dY phase row the tap
// meets, shifted by its offset. Data rows of whole vectors are read in place, others
// (and R's doubles for float arithmetic) copied zero-padded to whole vectors; the tap
// dots (tap_dots.h) sum them for blocks of channels and taps in registers. Threads
// share (group, channel block, filter) tasks, each owning its dW values; units are
// split a few at a time so the rows a task streams stay in cache.
// Bias gradient: the split pass sums each dY row as it copies it.
#include "core/cpu/phase_backward.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/cpu/phase_kernel.h"
#include "core/cpu/scratch.h"
#include "core/cpu/tap_dots.h"
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

// The tap dots read data_width (up to 64 bytes of vectors rounded up) values of a phase
// row from each tap's offset: kPhaseBlock covers that.
static_assert(kPhaseBlock % 16 == 0, "phase rows hold whole 64-byte vectors of floats");

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
  int64_t data_width;  // a data row as the weight gradient reads it (whole vectors)
  bool copy_data;      // it reads a zero-padded (or float) copy, not the array
  int64_t unit_elems;  // split dY (and the padded data) of one (sample, group)
  int64_t units;       // (sample, group) pairs split at a time
  bool within;         // the temporaries fit the workspace (else one unit's do)
  int threads;
  int64_t split_elems, data_elems, weight_elems;
};

// Channels per weight-gradient task: a few of the tap dots' blocks (of 3, 4, 6 or 8), so
// tasks are many and each reads its dY rows for several channels.
constexpr int64_t kTaskChannels = 24;

// The data one weight-gradient task streams once per (kd, kh) tap, kept within a core's
// cache by splitting fewer units at a time.
constexpr int64_t kTaskDataBytes = int64_t(256) << 10;

// As the forward's plan: as many units as the workspace holds beside the reordered
// weights, at least one; with the weight gradient, few enough that a task's data rows
// stay in cache. lanes: the tap dots' vector; convert: the data are R's doubles.
Plan make_plan(const Geometry& g, const GradientWidth& gw, size_t elem, int threads,
               bool weight_grad, int64_t lanes, bool convert) {
  Plan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  p.rows_in = g.in[0] * g.in[1];
  p.rows_out = g.out[0] * g.out[1];
  p.in_width = g.in[2];
  p.out_width = g.out[2];
  p.stride_w = g.stride[2];
  p.weight_elems = p.channels * p.filters_per_group * p.taps;
  const int64_t split = p.filters_per_group * p.rows_out * p.stride_w * gw.row_len;
  p.data_width = weight_grad ? (p.in_width + lanes - 1) / lanes * lanes : 0;
  p.copy_data = weight_grad && (convert || p.data_width != p.in_width);
  const int64_t padded = p.copy_data ? p.channels_per_group * p.rows_in * p.data_width : 0;
  p.unit_elems = std::max<int64_t>(1, split + padded);
  const PhaseUnits u =
      phase_units(g.workspace_mb, elem, p.unit_elems, p.weight_elems, p.batch * p.groups);
  p.units = u.units;
  if (weight_grad) {
    const int64_t task_unit = std::min(kTaskChannels, p.channels_per_group) * p.rows_in *
                              p.data_width * static_cast<int64_t>(elem);
    p.units = std::min(p.units, std::max<int64_t>(1, kTaskDataBytes / task_unit));
  }
  p.within = u.within;
  p.split_elems = p.units * split;
  p.data_elems = p.units * padded;
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

// A data row copied to data_width values, zero-padded (the tap dots read whole vectors).
template <typename T, typename IO>
void pad_row(const Plan& p, const IO* x, T* dst) {
  for (int64_t i = 0; i < p.in_width; ++i) dst[i] = static_cast<T>(x[i]);
  std::fill(dst + p.in_width, dst + p.data_width, T(0));
}

// A dY row split into its stride phases at dst; returns the row's sum (in double, of
// the values as given: the bias gradient's share).
template <typename T, typename IO>
double split_row(const GradientWidth& gw, const Plan& p, const IO* dy, T* dst) {
  double sum = 0;
  for (int64_t r = 0; r < p.stride_w; ++r, dst += gw.row_len) {
    const int64_t n = gw.count[r];
    std::fill_n(dst, gw.left, T(0));
    for (int64_t q = 0; q < n; ++q) {
      const IO v = dy[q * p.stride_w + r];
      sum += v;
      dst[gw.left + q] = static_cast<T>(v);
    }
    std::fill(dst + gw.left + n, dst + gw.row_len, T(0));
  }
  return sum;
}

// The buffers of one chunk of units and what every step reads.
template <typename T, typename IO>
struct Gradients {
  const Geometry& g;
  const Plan& p;
  const GradientWidth& gw;
  const IndexTaps &dt, &ht;
  InterruptPoll& poll;
  T* split;  // the chunk's dY rows split by width phase
  const T* wr;
  int64_t split_row_len, unit_rows;

  // dX of the chunk's units u0 .. u0 + nu - 1 (see the file comment).
  void data_grad(int64_t u0, int64_t nu, IO* data_grad, PhaseRowKernel<T, IO> kernel) const {
    const WidthPhase whole{0, p.in_width, 0, 1};  // every dX of a row, through one tap
    const int64_t zero = 0;
    const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group;
    const int64_t tasks = nu * p.rows_in;
    parallel_region(p.threads, [&] {
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
    });
  }

  // dw += the chunk's contributions, from its data rows xrows (data_width apart). A task
  // is (group, block of channels, filter) and owns those dW values; per (kd, kh) it lists
  // the (unit, data row) pairs that meet a dY row and sums each tap's dot products over
  // all of them at once.
  void weight_grad(int64_t u0, int64_t nu, const T* xrows, T* dw,
                   void (*kernel)(const TapDots<T>&)) const {
    const int64_t Cg = p.channels_per_group, Fg = p.filters_per_group;
    const int64_t blocks = (Cg + kTaskChannels - 1) / kTaskChannels;
    const int64_t tasks = p.groups * blocks * Fg;
    const int64_t plane = p.rows_in * p.data_width;  // one channel's padded data
    std::vector<int64_t> y_off;
    for (size_t j = 0; j < gw.kw.size(); ++j)
      y_off.push_back(gw.phase[j] * gw.row_len + gw.left + gw.off[j]);
    parallel_region(p.threads, [&] {
      std::vector<const T*> xs, ys;
      xs.reserve(nu * p.rows_in);
      ys.reserve(nu * p.rows_in);
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < tasks; ++task) {
        if (poll.poll()) continue;
        const int64_t f = task % Fg, cb = task / Fg % blocks, gi = task / (Fg * blocks);
        const int64_t c0 = cb * kTaskChannels, cn = std::min(kTaskChannels, Cg - c0);
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            xs.clear();
            ys.clear();
            for (int64_t u = 0; u < nu; ++u) {
              if ((u0 + u) % p.groups != gi) continue;
              const T* yf = split + (u * unit_rows + f * p.rows_out) * split_row_len;
              const T* xu = xrows + (u * Cg + c0) * plane;
              for (int64_t id = 0; id < g.in[0]; ++id) {
                const int64_t od = id * g.stride[0] - g.pad[0] + kd * g.dilate[0];
                if (od < 0 || od >= g.out[0]) continue;
                for (int64_t ih = 0; ih < g.in[1]; ++ih) {
                  const int64_t oh = ih * g.stride[1] - g.pad[1] + kh * g.dilate[1];
                  if (oh < 0 || oh >= g.out[1]) continue;
                  xs.push_back(xu + (id * g.in[1] + ih) * p.data_width);
                  ys.push_back(yf + (od * g.out[1] + oh) * split_row_len);
                }
              }
            }
            if (xs.empty()) continue;
            TapDots<T> d;
            d.x = xs.data();
            d.y = ys.data();
            d.pairs = static_cast<int64_t>(xs.size());
            d.width = p.data_width;
            d.valid = p.in_width;
            d.x_stride = plane;
            d.channels = cn;
            d.y_off = y_off.data();
            d.kw = gw.kw.data();
            d.taps = static_cast<int64_t>(gw.kw.size());
            d.dw = dw + (((gi * Cg + c0) * Fg + f) * g.kernel[0] + kd) * g.kernel[1] *
                            g.kernel[2] + kh * g.kernel[2];
            d.dw_stride = Fg * p.taps;
            kernel(d);
          }
        }
      }
    });
  }
};

}  // namespace

bool phase_backward_fits(const Geometry& g, size_t elem, bool weight_grad) {
  return !g.channels_last &&
         make_plan(g, gradient_width(g), elem, 1, weight_grad, 16, true).within;
}

// Measured against im2col + GEMM (AMD EPYC Zen 1, AVX2, OpenBLAS; tests/gtest bench_core
// on the benchmark's layers, 1 and 2 threads, float and double):
// - all gradients: direct wins on 1D and 2D layers whose width taps overlap (kernel >
//   stride) with up to 64 channels and filters per group, ungrouped or depthwise, on dX
//   rows of at least 16 values: FCN 21 -> 21 k4 s2 and k16 s8 1.03-1.4x, stride 1 k3 64
//   -> 64 1.06-1.2x, dilated 1.0-1.16x, 64 -> 3 k4 s2 1.05-1.3x, depthwise k4 s2 and
//   bilinear k8 s4 0.87-2.3x (2 threads in double the least). It loses where GEMM is
//   efficient or its im2col cheap: k = s (U-Net 2x2 s2 0.84-0.94x), 128 channels (128 ->
//   3: 0.92-0.95x in float), 128 filters (1D k16 s8: 0.5-0.7x), 4 groups of 32 (0.76x on
//   2 threads), rows of 8 (DCGAN, 1024 -> 512: 0.2-0.6x) and 3D (0.5-0.6x).
// - dX alone (frozen weights), the phase kernel against the dX GEMM: geometric mean
//   1.1x on 1D and 2D layers of up to 32 filters per group (U-Net 27 vs 26 ms in float,
//   47 vs 54 in double), slower beyond and in 3D.
constexpr int64_t kPhaseMaxFilters = 32;        // dX alone
constexpr int64_t kPhaseMaxChannelsAll = 64;    // all gradients: channels and filters
constexpr int64_t kPhaseMinWidth = 16;

bool phase_backward_preferred(const Geometry& g, size_t elem, bool weight_grad) {
  if (g.rank > 2 || g.in[2] < kPhaseMinWidth) return false;
  const int64_t Cg = g.channels_per_group(), Fg = g.filters_per_group();
  if (!weight_grad) return Fg <= kPhaseMaxFilters && phase_backward_fits(g, elem, false);
  const bool depthwise = Cg == 1 && Fg == 1;
  return (g.num_group == 1 || depthwise) && Cg <= kPhaseMaxChannelsAll &&
         Fg <= kPhaseMaxChannelsAll && g.kernel[2] > g.stride[2] &&
         phase_backward_fits(g, elem, true);
}

template <typename T, typename IO>
void phase_gradients(const Geometry& g, const IO* out_grad, const IO* data, const IO* weight,
                     IO* data_grad, T* weight_grad, IO* bias_grad, const RunOptions& opts,
                     InterruptPoll& poll, RunStats* stats) {
  const GradientWidth gw = gradient_width(g);
  const int threads = resolve_threads(opts.threads, g.multiply_adds());
  const TapDotsBuild<T> dots = tap_dots_build<T>();
  const Plan p = make_plan(g, gw, sizeof(T), threads, weight_grad != nullptr, dots.lanes,
                           !std::is_same<T, IO>::value);
  const IndexTaps dt =
      gradient_taps(g.in[0], g.out[0], g.kernel[0], g.stride[0], g.dilate[0], g.pad[0]);
  const IndexTaps ht =
      gradient_taps(g.in[1], g.out[1], g.kernel[1], g.stride[1], g.dilate[1], g.pad[1]);
  const int64_t weight_elems = data_grad ? p.weight_elems : 0;
  const int64_t temp = p.split_elems + p.data_elems + weight_elems;
  const Scratch scratch(static_cast<size_t>(temp) * sizeof(T));
  T* split = scratch.as<T>();
  T* xpad = split + p.split_elems;
  T* wr = xpad + p.data_elems;
  if (stats) {
    *stats = RunStats{};
    stats->temp_bytes = temp * static_cast<int64_t>(sizeof(T));
    stats->phase_data_grad = data_grad != nullptr;
    stats->phase_weight_grad = weight_grad != nullptr;
    stats->chunks = (p.batch * p.groups + p.units - 1) / p.units;
  }
  if (data_grad) reorder_weights(p, weight, wr);
  if (weight_grad) std::fill_n(weight_grad, p.weight_elems, T(0));
  const Gradients<T, IO> steps{g,  p,     gw, dt, ht, poll, split, wr,
                               p.stride_w * gw.row_len, p.filters_per_group * p.rows_out};
  const int64_t data_rows = p.channels_per_group * p.rows_in;  // per unit
  const int64_t total_units = p.batch * p.groups;
  // The bias gradient: the split's row sums, added up per filter in double.
  std::vector<double> row_sums(bias_grad ? p.units * steps.unit_rows : 0);
  std::vector<double> bias_sums(bias_grad ? p.filters : 0, 0.0);
  for (int64_t u0 = 0; u0 < total_units && !poll.poll(); u0 += p.units) {
    const int64_t nu = std::min(p.units, total_units - u0);
    // Unit u's filters (and channels) are consecutive in dY (and X): channels-first,
    // groups contiguous.
    parallel_for(p.threads, nu * steps.unit_rows, [&](int64_t i) {
      const double sum = split_row(gw, p, out_grad + (u0 * steps.unit_rows + i) * p.out_width,
                                   split + i * steps.split_row_len);
      if (bias_grad) row_sums[i] = sum;
    });
    for (int64_t i = 0; bias_grad && i < nu * steps.unit_rows; ++i) {
      const int64_t u = i / steps.unit_rows, f = i % steps.unit_rows / p.rows_out;
      bias_sums[(u0 + u) % p.groups * p.filters_per_group + f] += row_sums[i];
    }
    if (weight_grad) {
      // The array's own rows when they are whole vectors of T, else the padded copy.
      const T* xrows = xpad;
      if (p.copy_data) {
        parallel_for(p.threads, nu * data_rows, [&](int64_t i) {
          pad_row(p, data + (u0 * data_rows + i) * p.in_width, xpad + i * p.data_width);
        });
      } else if constexpr (std::is_same<T, IO>::value) {
        xrows = data + u0 * data_rows * p.in_width;
      }
      steps.weight_grad(u0, nu, xrows, weight_grad, dots.run);
    }
    if (data_grad) steps.data_grad(u0, nu, data_grad, phase_row_kernel<T, IO>());
  }
  for (int64_t f = 0; bias_grad && f < p.filters; ++f)
    bias_grad[f] = static_cast<IO>(bias_sums[f]);
}

template void phase_gradients<float, float>(const Geometry&, const float*, const float*,
                                            const float*, float*, float*, float*,
                                            const RunOptions&, InterruptPoll&, RunStats*);
template void phase_gradients<double, double>(const Geometry&, const double*, const double*,
                                              const double*, double*, double*, double*,
                                              const RunOptions&, InterruptPoll&, RunStats*);
template void phase_gradients<float, double>(const Geometry&, const double*, const double*,
                                             const double*, double*, float*, double*,
                                             const RunOptions&, InterruptPoll&, RunStats*);

}  // namespace cpu
}  // namespace deconv
