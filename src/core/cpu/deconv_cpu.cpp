// CPU kernels. Forward, per (sample n, group g) and per tile of input positions:
//   cols = W_g^T X_g  (GEMM), then col2im scatters cols into the output.
// Backward uses the same tiles: cols = im2col(dY), dX_g = W_g cols, dW_g += X_g cols^T.
// Channels-last layouts use the transposed GEMMs so no data is ever reordered.
#include "core/cpu/deconv_cpu.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/cpu/taps.h"
#include "core/error.h"

namespace deconv {
namespace cpu {

namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstStrided = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using Strided = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Sizes of one (sample, group) unit of work and how its input positions are tiled.
struct Plan {
  int64_t S, So, K, Cg, Fg, FgK;
  int64_t tile;     // input positions per tile
  int threads;      // threads over units
  bool gemm_threads;  // too few units: let the GEMM use the threads instead
};

Plan make_plan(const Geometry& g, size_t elem, int requested, int64_t extra_per_thread) {
  Plan p;
  p.S = g.in_size();
  p.So = g.out_size();
  p.K = g.kernel_size();
  p.Cg = g.channels_per_group();
  p.Fg = g.filters_per_group();
  p.FgK = p.Fg * p.K;
  const int64_t units = g.batch * g.num_group;
  const int t = resolve_threads(requested);
  p.gemm_threads = units < t;
  p.threads = p.gemm_threads ? 1 : t;
  const int64_t budget = (g.workspace_mb << 20) / static_cast<int64_t>(elem) / p.threads -
                         extra_per_thread;
  p.tile = std::min(p.S, std::max<int64_t>(1, budget / std::max<int64_t>(1, p.FgK)));
  return p;
}

// Runs body(unit, thread) over all (sample, group) units, checking for interrupts on
// the calling thread between units and rethrowing worker exceptions on the caller.
template <class Body>
void run_units(const Geometry& g, const Plan& plan, const RunOptions& opts, Body&& body) {
  Eigen::setNbThreads(plan.gemm_threads ? resolve_threads(opts.threads) : 1);
  const int64_t units = g.batch * g.num_group;
  std::atomic<bool> stop{false};
  std::atomic<bool> interrupted{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  // Workers may take every unit, so the calling thread also checks once up front.
  if (opts.interrupted && opts.interrupted()) throw Interrupted();
#pragma omp parallel for num_threads(plan.threads) schedule(dynamic, 1)
  for (int64_t u = 0; u < units; ++u) {
    if (stop.load(std::memory_order_relaxed)) continue;
    const int tid = thread_id();
    try {
      auto check = [&]() {
        if (tid == 0 && opts.interrupted && opts.interrupted()) {
          interrupted = true;
          stop = true;
        }
        return stop.load(std::memory_order_relaxed);
      };
      if (check()) continue;
      body(u, tid, check);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  }
  Eigen::setNbThreads(1);
  if (error) std::rethrow_exception(error);
  if (interrupted) throw Interrupted();
}

}  // namespace

template <typename T>
void forward(const Geometry& g, const T* data, const T* weight, const T* bias, T* out,
             const RunOptions& opts, RunStats* stats) {
  const Plan p = make_plan(g, sizeof(T), opts.threads, 0);
  const int64_t F = g.num_filter, C = g.channels, K = p.K, Fg = p.Fg, S = p.S, So = p.So;
  const int64_t sw = g.stride[2];
  std::fill(out, out + g.batch * F * So, T(0));
  std::vector<std::vector<T>> bufs(p.threads, std::vector<T>(p.tile * p.FgK));
  if (stats) stats->temp_bytes = static_cast<int64_t>(p.threads) * p.tile * p.FgK * sizeof(T);

  run_units(g, p, opts, [&](int64_t u, int tid, auto&& check) {
    const int64_t n = u / g.num_group, gi = u % g.num_group;
    T* cols = bufs[tid].data();
    for (int64_t s0 = 0; s0 < S; s0 += p.tile) {
      if (s0 > 0 && check()) return;
      const int64_t ts = std::min(p.tile, S - s0);
      if (!g.channels_last) {
        Eigen::Map<const RowMat<T>> Wg(weight + gi * p.Cg * p.FgK, p.Cg, p.FgK);
        ConstStrided<T> X(data + (n * C + gi * p.Cg) * S + s0, p.Cg, ts, Eigen::OuterStride<>(S));
        Eigen::Map<RowMat<T>>(cols, p.FgK, ts).noalias() = Wg.transpose() * X;
        T* o = out + (n * F + gi * Fg) * So;
        for_each_tap_run(g, s0, s0 + ts, [&](int64_t tap, int64_t sl, int64_t ob, int64_t cnt) {
          for (int64_t f = 0; f < Fg; ++f) {
            const T* c = cols + (f * K + tap) * ts + sl;
            T* dst = o + f * So + ob;
            for (int64_t j = 0; j < cnt; ++j) dst[j * sw] += c[j];
          }
        });
      } else {
        Eigen::Map<const RowMat<T>> Wg(weight + gi * p.Cg * p.FgK, p.Cg, p.FgK);
        ConstStrided<T> X(data + (n * S + s0) * C + gi * p.Cg, ts, p.Cg, Eigen::OuterStride<>(C));
        Eigen::Map<RowMat<T>>(cols, ts, p.FgK).noalias() = X * Wg;
        T* o = out + n * So * F + gi * Fg;
        for_each_tap_run(g, s0, s0 + ts, [&](int64_t tap, int64_t sl, int64_t ob, int64_t cnt) {
          for (int64_t j = 0; j < cnt; ++j) {
            const T* c = cols + (sl + j) * p.FgK + tap * Fg;
            T* dst = o + (ob + j * sw) * F;
            for (int64_t f = 0; f < Fg; ++f) dst[f] += c[f];
          }
        });
      }
    }
  });

  if (bias) {
    for (int64_t n = 0; n < g.batch; ++n) {
      if (!g.channels_last) {
        for (int64_t f = 0; f < F; ++f) {
          T* o = out + (n * F + f) * So;
          for (int64_t i = 0; i < So; ++i) o[i] += bias[f];
        }
      } else {
        for (int64_t i = 0; i < So; ++i) {
          T* o = out + (n * So + i) * F;
          for (int64_t f = 0; f < F; ++f) o[f] += bias[f];
        }
      }
    }
  }
}

template <typename T>
void backward(const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts,
              RunStats* stats) {
  const int64_t F = g.num_filter, C = g.channels, Fg = g.filters_per_group(), S = g.in_size(),
                So = g.out_size(), K = g.kernel_size();
  const int64_t wsize = C * Fg * K;
  if (data_grad || weight_grad) {
    // Each thread past the first accumulates its own weight gradient.
    const Plan p0 = make_plan(g, sizeof(T), opts.threads, 0);
    const int64_t extra = (weight_grad && p0.threads > 1) ? wsize : 0;
    const Plan p = make_plan(g, sizeof(T), opts.threads, extra);
    const int64_t sw = g.stride[2];
    std::vector<std::vector<T>> bufs(p.threads, std::vector<T>(p.tile * p.FgK));
    std::vector<std::vector<T>> wgrads(weight_grad ? p.threads - 1 : 0, std::vector<T>(wsize, T(0)));
    if (weight_grad) std::fill(weight_grad, weight_grad + wsize, T(0));
    if (stats) {
      stats->temp_bytes = static_cast<int64_t>(p.threads) * p.tile * p.FgK * sizeof(T) +
                          static_cast<int64_t>(wgrads.size()) * wsize * sizeof(T);
    }
    run_units(g, p, opts, [&](int64_t u, int tid, auto&& check) {
      const int64_t n = u / g.num_group, gi = u % g.num_group;
      T* cols = bufs[tid].data();
      T* wg_acc = weight_grad ? (tid == 0 ? weight_grad : wgrads[tid - 1].data()) : nullptr;
      for (int64_t s0 = 0; s0 < S; s0 += p.tile) {
        if (s0 > 0 && check()) return;
        const int64_t ts = std::min(p.tile, S - s0);
        std::fill(cols, cols + ts * p.FgK, T(0));
        Eigen::Map<const RowMat<T>> Wg(weight + gi * p.Cg * p.FgK, p.Cg, p.FgK);
        if (!g.channels_last) {
          const T* dy = out_grad + (n * F + gi * Fg) * So;
          for_each_tap_run(g, s0, s0 + ts, [&](int64_t tap, int64_t sl, int64_t ob, int64_t cnt) {
            for (int64_t f = 0; f < Fg; ++f) {
              T* c = cols + (f * K + tap) * ts + sl;
              const T* src = dy + f * So + ob;
              for (int64_t j = 0; j < cnt; ++j) c[j] = src[j * sw];
            }
          });
          Eigen::Map<const RowMat<T>> cm(cols, p.FgK, ts);
          if (data_grad) {
            Strided<T>(data_grad + (n * C + gi * p.Cg) * S + s0, p.Cg, ts, Eigen::OuterStride<>(S))
                .noalias() = Wg * cm;
          }
          if (wg_acc) {
            ConstStrided<T> X(data + (n * C + gi * p.Cg) * S + s0, p.Cg, ts, Eigen::OuterStride<>(S));
            Eigen::Map<RowMat<T>>(wg_acc + gi * p.Cg * p.FgK, p.Cg, p.FgK).noalias() +=
                X * cm.transpose();
          }
        } else {
          const T* dy = out_grad + n * So * F + gi * Fg;
          for_each_tap_run(g, s0, s0 + ts, [&](int64_t tap, int64_t sl, int64_t ob, int64_t cnt) {
            for (int64_t j = 0; j < cnt; ++j) {
              T* c = cols + (sl + j) * p.FgK + tap * Fg;
              const T* src = dy + (ob + j * sw) * F;
              for (int64_t f = 0; f < Fg; ++f) c[f] = src[f];
            }
          });
          Eigen::Map<const RowMat<T>> cm(cols, ts, p.FgK);
          if (data_grad) {
            Strided<T>(data_grad + (n * S + s0) * C + gi * p.Cg, ts, p.Cg, Eigen::OuterStride<>(C))
                .noalias() = cm * Wg.transpose();
          }
          if (wg_acc) {
            ConstStrided<T> X(data + (n * S + s0) * C + gi * p.Cg, ts, p.Cg, Eigen::OuterStride<>(C));
            Eigen::Map<RowMat<T>>(wg_acc + gi * p.Cg * p.FgK, p.Cg, p.FgK).noalias() +=
                X.transpose() * cm;
          }
        }
      }
    });
    for (const auto& w : wgrads)
      for (int64_t i = 0; i < wsize; ++i) weight_grad[i] += w[i];
  }
  if (bias_grad) {
    std::vector<double> acc(F, 0.0);
    for (int64_t n = 0; n < g.batch; ++n) {
      if (!g.channels_last) {
        for (int64_t f = 0; f < F; ++f) {
          const T* dy = out_grad + (n * F + f) * So;
          double s = 0;
          for (int64_t i = 0; i < So; ++i) s += dy[i];
          acc[f] += s;
        }
      } else {
        for (int64_t i = 0; i < So; ++i) {
          const T* dy = out_grad + (n * So + i) * F;
          for (int64_t f = 0; f < F; ++f) acc[f] += dy[f];
        }
      }
    }
    for (int64_t f = 0; f < F; ++f) bias_grad[f] = static_cast<T>(acc[f]);
  }
}

template void forward<float>(const Geometry&, const float*, const float*, const float*, float*,
                             const RunOptions&, RunStats*);
template void forward<double>(const Geometry&, const double*, const double*, const double*,
                              double*, const RunOptions&, RunStats*);
template void backward<float>(const Geometry&, const float*, const float*, const float*, float*,
                              float*, float*, const RunOptions&, RunStats*);
template void backward<double>(const Geometry&, const double*, const double*, const double*,
                               double*, double*, double*, const RunOptions&, RunStats*);

}  // namespace cpu
}  // namespace deconv
