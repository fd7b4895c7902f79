// The cudnn_off GPU algorithm as host-side orchestration, independent of CUDA: chunking
// of the batch under the workspace bound and the sequence of strided-batched GEMMs and
// col2im / im2col passes. colgemm_deconv.cpp runs it with cuBLAS and CUDA kernels; the
// CPU-only test test_gpu_index.cpp runs the very same code with host emulations of them.
//
// Channels-first tensors, row-major: X (N, C, S), W (C, Fg*K), Y (N, F, So), where
// S = in_size, So = out_size, K = kernel_size, C = G*Cg, F = G*Fg.
//
// Chunks: `nb` samples by `gb` groups. The chunk's columns are (sample, group, Fg*K, S),
// i.e. planes (n, channel-in-chunk) of K x S each, as colgemm_index.h expects.
//
// GEMMs follow cuBLAS's column-major convention. A row-major (r x c) matrix with leading
// dimension L is, read column-major, its (c x r) transpose with the same L. So a
// row-major product C = A * B is issued as the column-major C^T = B^T * A^T, with the
// operands swapped and each matrix given its row-major leading dimension:
//   forward  col_g (FgK x S) = W_g^T (FgK x Cg) * X_g (Cg x S)
//            -> col^T (S x FgK) = X_g^T (S x Cg, op N, ld S) * W_g (read FgK x Cg, op T, ld FgK)
//               gemm(N, T, m=S, n=FgK, k=Cg, A=X_g lda=S, B=W_g ldb=FgK, C=col ldc=S)
//   dX       dX_g (Cg x S) = W_g (Cg x FgK) * col (FgK x S)
//            -> dX^T (S x Cg) = col^T (S x FgK, op N, ld S) * W_g^T (FgK x Cg, op N, ld FgK)
//               gemm(N, N, m=S, n=Cg, k=FgK, A=col lda=S, B=W_g ldb=FgK, C=dX_g ldc=S)
//   dW       dW_g (Cg x FgK) += X_g (Cg x S) * col^T (S x FgK)
//            -> dW^T (FgK x Cg) = col (read S x FgK, op T, ld S) * X_g^T (S x Cg, op N, ld S)
//               gemm(T, N, m=FgK, n=Cg, k=S, A=col lda=S, B=X_g ldb=S, C=dW_g ldc=FgK)
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "core/cuda/colgemm/colgemm_index.h"
#include "core/error.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

enum class GemmOp { N, T };

struct GemmPlan {
  int64_t N, C, F, G, Cg, Fg, K, S, So, FgK;
  int64_t nb;         // samples per chunk
  int64_t gb;         // groups per chunk: G, unless one sample's columns exceed the budget
  int64_t col_elems;  // elements of the column buffer: nb * gb * FgK * S
  ColGeom geom;
};

// Chunking under a budget of `budget_elems` column elements:
//  - whole samples with all groups when one sample's columns (F*K*S) fit:
//    nb = min(N, budget / (F*K*S)), gb = G;
//  - else one sample and as many whole groups as fit: nb = 1, gb = max(1, budget / (Fg*K*S)).
// One group of one sample is the smallest unit: when even that exceeds the budget it is
// still processed whole, so the buffer then exceeds the budget by that much.
inline GemmPlan plan_gemm(const Geometry& g, int64_t budget_elems) {
  GemmPlan p;
  p.N = g.batch; p.C = g.channels; p.F = g.num_filter; p.G = g.num_group;
  p.Cg = g.channels_per_group(); p.Fg = g.filters_per_group();
  p.K = g.kernel_size(); p.S = g.in_size(); p.So = g.out_size(); p.FgK = p.Fg * p.K;
  p.geom = make_col_geom(g);
  const int64_t per_group = checked_mul(p.FgK, p.S, "data");
  const int64_t per_sample = checked_mul(per_group, p.G, "data");
  if (per_sample <= budget_elems) {
    p.gb = p.G;
    p.nb = std::max<int64_t>(1, std::min(p.N, budget_elems / per_sample));
  } else {
    p.nb = 1;
    p.gb = std::max<int64_t>(1, std::min(p.G, budget_elems / per_group));
  }
  // Batch counts and per-chunk sizes must fit cuBLAS's int arguments.
  p.nb = std::min<int64_t>(p.nb, INT_MAX);
  p.col_elems = checked_mul(checked_mul(p.nb, p.gb, "data"), per_group, "data");
  return p;
}

// The budget in elements of T for `workspace_mb` MB.
template <typename T>
int64_t workspace_elems(const Geometry& g) {
  const int64_t mb = std::min<int64_t>(g.workspace_mb, int64_t(1) << 40);
  return (mb << 20) / static_cast<int64_t>(sizeof(T));
}

// cuBLAS takes m, n, k and leading dimensions as int.
inline void check_gemm_sizes(const GemmPlan& p) {
  const int64_t dims[] = {p.S, p.FgK, p.Cg};
  for (int64_t d : dims) {
    if (d > INT_MAX) {
      throw UnsupportedError("data", "a matrix dimension of the GEMM path (" + std::to_string(d) +
                                         ") exceeds what cuBLAS accepts (2^31 - 1); use "
                                         "cudnn.off = FALSE or a smaller input");
    }
  }
}

// Calls fn(n0, nb, g0, gb) for every chunk, checking for interrupts between chunks.
// With an interrupt callback, ops.chunk_queued() follows each chunk: on the GPU, where
// work is queued asynchronously, it holds the host back until the chunk before has
// finished, so a check is never more than about a chunk ahead of the device.
template <class Ops, class Fn>
void for_each_gemm_chunk(const GemmPlan& p, const RunOptions& opts, Ops& ops, Fn&& fn) {
  for (int64_t n0 = 0; n0 < p.N; n0 += p.nb) {
    const int64_t nb = std::min(p.nb, p.N - n0);
    for (int64_t g0 = 0; g0 < p.G; g0 += p.gb) {
      throw_if_interrupted(opts);
      fn(n0, nb, g0, std::min(p.gb, p.G - g0));
      if (opts.interrupted) ops.chunk_queued();
    }
  }
}

// Ops must provide, for T:
//   gemm(GemmOp ta, GemmOp tb, int64_t m, n, k, const T* A, int64_t lda, int64_t strideA,
//        const T* B, int64_t ldb, int64_t strideB, T beta, T* C, int64_t ldc,
//        int64_t strideC, int64_t batch)
//     C_i = op(A_i) op(B_i) + beta C_i (column-major, alpha 1; beta 0 does not read C)
//     with X_i = X + i * strideX, for i < batch;
//   col2im(const T* col, T* y, const ColGeom&, int64_t nb, int64_t ch, int64_t sample_stride)
//   im2col(const T* dy, T* col, const ColGeom&, int64_t nb, int64_t ch, int64_t sample_stride)
//     (see col2im_at / im2col_at in colgemm_index.h);
//   chunk_queued(): called after each chunk when there is an interrupt callback.

// Columns of the chunk = W_g^T X_g for each of its (sample, group) pairs. The GEMMs are
// batched over samples (one call per group) or over groups (one call per sample),
// whichever needs fewer calls.
template <typename T, class Ops>
void chunk_columns_forward(const GemmPlan& p, const T* data, const T* weight, T* col, int64_t n0,
                           int64_t nb, int64_t g0, int64_t gb, Ops& ops) {
  const int64_t gcol = p.FgK * p.S;  // one (sample, group) block of columns
  if (nb >= gb) {
    for (int64_t gl = 0; gl < gb; ++gl) {
      const int64_t gi = g0 + gl;
      ops.gemm(GemmOp::N, GemmOp::T, p.S, p.FgK, p.Cg,
               data + (n0 * p.C + gi * p.Cg) * p.S, p.S, p.C * p.S,  // X_g, per sample
               weight + gi * p.Cg * p.FgK, p.FgK, int64_t(0),        // W_g, shared
               T(0), col + gl * gcol, p.S, gb * gcol, nb);
    }
  } else {
    for (int64_t n = 0; n < nb; ++n) {
      ops.gemm(GemmOp::N, GemmOp::T, p.S, p.FgK, p.Cg,
               data + ((n0 + n) * p.C + g0 * p.Cg) * p.S, p.S, p.Cg * p.S,  // X_g, per group
               weight + g0 * p.Cg * p.FgK, p.FgK, p.Cg * p.FgK,             // W_g, per group
               T(0), col + n * gb * gcol, p.S, gcol, gb);
    }
  }
}

template <typename T, class Ops>
void run_gemm_forward(const GemmPlan& p, const T* data, const T* weight, T* out, T* col,
                      const RunOptions& opts, Ops& ops) {
  for_each_gemm_chunk(p, opts, ops, [&](int64_t n0, int64_t nb, int64_t g0, int64_t gb) {
    chunk_columns_forward(p, data, weight, col, n0, nb, g0, gb, ops);
    ops.col2im(col, out + (n0 * p.F + g0 * p.Fg) * p.So, p.geom, nb, gb * p.Fg, p.F * p.So);
  });
}

// data_grad and/or weight_grad (either may be null). weight_grad is written by the first
// sample's GEMMs (beta 0) and accumulated by the later ones (beta 1), in sample order.
template <typename T, class Ops>
void run_gemm_backward(const GemmPlan& p, const T* out_grad, const T* data, const T* weight,
                       T* data_grad, T* weight_grad, T* col, const RunOptions& opts, Ops& ops) {
  if (!data_grad && !weight_grad) return;
  const int64_t gcol = p.FgK * p.S;
  for_each_gemm_chunk(p, opts, ops, [&](int64_t n0, int64_t nb, int64_t g0, int64_t gb) {
    ops.im2col(out_grad + (n0 * p.F + g0 * p.Fg) * p.So, col, p.geom, nb, gb * p.Fg,
               p.F * p.So);
    if (data_grad) {
      if (nb >= gb) {
        for (int64_t gl = 0; gl < gb; ++gl) {
          const int64_t gi = g0 + gl;
          ops.gemm(GemmOp::N, GemmOp::N, p.S, p.Cg, p.FgK,
                   col + gl * gcol, p.S, gb * gcol,               // columns, per sample
                   weight + gi * p.Cg * p.FgK, p.FgK, int64_t(0),  // W_g, shared
                   T(0), data_grad + (n0 * p.C + gi * p.Cg) * p.S, p.S, p.C * p.S, nb);
        }
      } else {
        for (int64_t n = 0; n < nb; ++n) {
          ops.gemm(GemmOp::N, GemmOp::N, p.S, p.Cg, p.FgK,
                   col + n * gb * gcol, p.S, gcol,                     // columns, per group
                   weight + g0 * p.Cg * p.FgK, p.FgK, p.Cg * p.FgK,    // W_g, per group
                   T(0), data_grad + ((n0 + n) * p.C + g0 * p.Cg) * p.S, p.S, p.Cg * p.S, gb);
        }
      }
    }
    if (weight_grad) {
      // Batched over the chunk's groups (distinct dW_g); samples one after the other so
      // that the sum over samples is accumulated in a fixed order.
      for (int64_t n = 0; n < nb; ++n) {
        ops.gemm(GemmOp::T, GemmOp::N, p.FgK, p.Cg, p.S,
                 col + n * gb * gcol, p.S, gcol,                               // columns
                 data + ((n0 + n) * p.C + g0 * p.Cg) * p.S, p.S, p.Cg * p.S,  // X_g
                 n0 + n == 0 ? T(0) : T(1), weight_grad + g0 * p.Cg * p.FgK, p.FgK,
                 p.Cg * p.FgK, gb);
      }
    }
  });
}

}  // namespace cuda
}  // namespace deconv
