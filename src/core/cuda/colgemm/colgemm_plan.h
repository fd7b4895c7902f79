// The cudnn_off GPU algorithm as host-side orchestration, independent of CUDA: chunking
// of the batch under the workspace bound and the sequence of strided-batched GEMMs and
// col2im / im2col passes. colgemm_deconv.cpp runs it with cuBLAS and CUDA kernels; the
// CPU-only test test_gpu_index.cpp runs the very same code with host emulations of them.
//
// Channels-first tensors, row-major: X (N, C, S), W (C, Fg*K), Y (N, F, So), where
// S = in_size, So = out_size, K = kernel_size, C = G*Cg, F = G*Fg (ColgemmPlan below
// names each).
//
// Chunks: samples_per_chunk samples by groups_per_chunk groups. The chunk's columns are
// (sample, group, Fg*K, S), i.e. planes (n, channel-in-chunk) of K x S each, as
// colgemm_index.h expects.
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

// The layer's sizes (letters of the formulas above: see LayerSizes in core/shape.h) and
// its chunking: a chunk is samples_per_chunk by groups_per_chunk.
struct ColgemmPlan : LayerSizes {
  int64_t samples_per_chunk;
  int64_t groups_per_chunk;  // groups, unless one sample's columns exceed the budget
  int64_t column_elems;      // elements of the column buffer:
                             // samples_per_chunk * groups_per_chunk * group_rows * in_positions
  ColGeom geom;

  // Elements of one (sample, group) column block and of one group's weight W_g.
  int64_t block_elems() const { return group_rows * in_positions; }
  int64_t group_weight_elems() const { return channels_per_group * group_rows; }
  // Where X_g of sample n, W_g and Y_g of sample n start (channels first, row-major).
  int64_t data_offset(int64_t n, int64_t group) const {
    return (n * channels + group * channels_per_group) * in_positions;
  }
  int64_t weight_offset(int64_t group) const { return group * group_weight_elems(); }
  int64_t out_offset(int64_t n, int64_t group) const {
    return (n * filters + group * filters_per_group) * out_positions;
  }
};

// Chunking under a budget of `budget_elems` column elements:
//  - whole samples with all groups when one sample's columns (F*K*S) fit:
//    samples_per_chunk = min(N, budget / (F*K*S)), groups_per_chunk = G;
//  - else one sample and as many whole groups as fit: samples_per_chunk = 1,
//    groups_per_chunk = max(1, budget / (Fg*K*S)).
// One group of one sample is the smallest unit: when even that exceeds the budget it is
// still processed whole, so the buffer then exceeds the budget by that much.
inline ColgemmPlan plan_colgemm(const Geometry& g, int64_t budget_elems) {
  ColgemmPlan p;
  static_cast<LayerSizes&>(p) = layer_sizes(g);
  p.geom = make_col_geom(g);
  const int64_t per_group = checked_mul(p.group_rows, p.in_positions, "data");
  const int64_t per_sample = checked_mul(per_group, p.groups, "data");
  if (per_sample <= budget_elems) {
    p.groups_per_chunk = p.groups;
    p.samples_per_chunk = std::max<int64_t>(1, std::min(p.batch, budget_elems / per_sample));
  } else {
    p.samples_per_chunk = 1;
    p.groups_per_chunk = std::max<int64_t>(1, std::min(p.groups, budget_elems / per_group));
  }
  // Batch counts and per-chunk sizes must fit cuBLAS's int arguments.
  p.samples_per_chunk = std::min<int64_t>(p.samples_per_chunk, INT_MAX);
  p.column_elems =
      checked_mul(checked_mul(p.samples_per_chunk, p.groups_per_chunk, "data"), per_group, "data");
  return p;
}

// The budget in elements of T for `workspace_mb` MB.
template <typename T>
int64_t workspace_elems(const Geometry& g) {
  return workspace_bytes(g.workspace_mb) / static_cast<int64_t>(sizeof(T));
}

// cuBLAS takes m, n, k and leading dimensions as int.
inline void check_colgemm_sizes(const ColgemmPlan& p) {
  const int64_t dims[] = {p.in_positions, p.group_rows, p.channels_per_group};
  for (int64_t d : dims) {
    if (d > INT_MAX) {
      throw UnsupportedError("data", "a matrix dimension of the GEMM path (" + std::to_string(d) +
                                         ") exceeds what cuBLAS accepts (2^31 - 1); use "
                                         "cudnn.off = FALSE or a smaller input");
    }
  }
}

// Calls fn(n0, samples, g0, groups) for every chunk (its first sample, its samples, its
// first group, its groups), checking for interrupts between chunks.
// With an interrupt callback, ops.chunk_queued() follows each chunk: on the GPU, where
// work is queued asynchronously, it holds the host back until the chunk before has
// finished, so a check is never more than about a chunk ahead of the device.
template <class Ops, class Fn>
void for_each_colgemm_chunk(const ColgemmPlan& p, const RunOptions& opts, Ops& ops, Fn&& fn) {
  for (int64_t n0 = 0; n0 < p.batch; n0 += p.samples_per_chunk) {
    const int64_t samples = std::min(p.samples_per_chunk, p.batch - n0);
    for (int64_t g0 = 0; g0 < p.groups; g0 += p.groups_per_chunk) {
      throw_if_interrupted(opts);
      fn(n0, samples, g0, std::min(p.groups_per_chunk, p.groups - g0));
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
//   col2im(const T* col, T* y, const ColGeom&, int64_t samples, int64_t ch, int64_t sample_stride)
//   im2col(const T* dy, T* col, const ColGeom&, int64_t samples, int64_t ch, int64_t sample_stride)
//     (see col2im_at / im2col_at in colgemm_index.h);
//   chunk_queued(): called after each chunk when there is an interrupt callback.

// Columns of the chunk = W_g^T X_g for each of its (sample, group) pairs. The GEMMs are
// batched over samples (one call per group) or over groups (one call per sample),
// whichever needs fewer calls.
template <typename T, class Ops>
void chunk_columns_forward(const ColgemmPlan& p, const T* data, const T* weight, T* col,
                           int64_t n0, int64_t samples, int64_t g0, int64_t groups, Ops& ops) {
  const int64_t S = p.in_positions, block = p.block_elems();
  if (samples >= groups) {
    for (int64_t gl = 0; gl < groups; ++gl) {
      const int64_t gi = g0 + gl;
      ops.gemm(GemmOp::N, GemmOp::T, S, p.group_rows, p.channels_per_group,
               data + p.data_offset(n0, gi), S, p.channels * S,          // X_g, per sample
               weight + p.weight_offset(gi), p.group_rows, int64_t(0),  // W_g, shared
               T(0), col + gl * block, S, groups * block, samples);
    }
  } else {
    for (int64_t n = 0; n < samples; ++n) {
      ops.gemm(GemmOp::N, GemmOp::T, S, p.group_rows, p.channels_per_group,
               data + p.data_offset(n0 + n, g0), S, p.channels_per_group * S,  // X_g, per group
               weight + p.weight_offset(g0), p.group_rows,
               p.group_weight_elems(),  // W_g, per group
               T(0), col + n * groups * block, S, block, groups);
    }
  }
}

template <typename T, class Ops>
void run_colgemm_forward(const ColgemmPlan& p, const T* data, const T* weight, T* out, T* col,
                         const RunOptions& opts, Ops& ops) {
  for_each_colgemm_chunk(
      p, opts, ops, [&](int64_t n0, int64_t samples, int64_t g0, int64_t groups) {
        chunk_columns_forward(p, data, weight, col, n0, samples, g0, groups, ops);
        ops.col2im(col, out + p.out_offset(n0, g0), p.geom, samples, groups * p.filters_per_group,
                   p.filters * p.out_positions);
      });
}

// data_grad and/or weight_grad (either may be null). weight_grad is written by the first
// sample's GEMMs (beta 0) and accumulated by the later ones (beta 1), in sample order.
template <typename T, class Ops>
void run_colgemm_backward(const ColgemmPlan& p, const T* out_grad, const T* data, const T* weight,
                          T* data_grad, T* weight_grad, T* col, const RunOptions& opts, Ops& ops) {
  if (!data_grad && !weight_grad) return;
  const int64_t S = p.in_positions, block = p.block_elems();
  for_each_colgemm_chunk(
      p, opts, ops, [&](int64_t n0, int64_t samples, int64_t g0, int64_t groups) {
        ops.im2col(out_grad + p.out_offset(n0, g0), col, p.geom, samples,
                   groups * p.filters_per_group, p.filters * p.out_positions);
        if (data_grad) {
          if (samples >= groups) {
            for (int64_t gl = 0; gl < groups; ++gl) {
              const int64_t gi = g0 + gl;
              ops.gemm(GemmOp::N, GemmOp::N, S, p.channels_per_group, p.group_rows,
                       col + gl * block, S, groups * block,  // columns, per sample
                       weight + p.weight_offset(gi), p.group_rows, int64_t(0),  // W_g, shared
                       T(0), data_grad + p.data_offset(n0, gi), S, p.channels * S, samples);
            }
          } else {
            for (int64_t n = 0; n < samples; ++n) {
              ops.gemm(GemmOp::N, GemmOp::N, S, p.channels_per_group, p.group_rows,
                       col + n * groups * block, S, block,  // columns, per group
                       weight + p.weight_offset(g0), p.group_rows,
                       p.group_weight_elems(),  // W_g, per group
                       T(0), data_grad + p.data_offset(n0 + n, g0), S, p.channels_per_group * S,
                       groups);
            }
          }
        }
        if (weight_grad) {
          // Batched over the chunk's groups (distinct dW_g); samples one after the other so
          // that the sum over samples is accumulated in a fixed order.
          for (int64_t n = 0; n < samples; ++n) {
            ops.gemm(GemmOp::T, GemmOp::N, p.group_rows, p.channels_per_group, S,
                     col + n * groups * block, S, block,                             // columns
                     data + p.data_offset(n0 + n, g0), S, p.channels_per_group * S,  // X_g
                     n0 + n == 0 ? T(0) : T(1), weight_grad + p.weight_offset(g0), p.group_rows,
                     p.group_weight_elems(), groups);
          }
        }
      });
}

}  // namespace cuda
}  // namespace deconv
