// CPU Deconvolution forward and backward, threaded with OpenMP, temporaries bounded by
// Geometry::workspace_mb. Forward runs the phase path (phase_forward.h: channels-first
// layers, each output computed once in registers, threads over output rows) where it
// is chosen or preferred, else the GEMM path: GEMMs plus col2im, as backward always
// runs with im2col. The GEMM path's threads share each chunk's GEMMs and col2im/im2col,
// or take whole groups (deconv_cpu.cpp); its GEMMs run on the optimized BLAS found at
// run time, deconv's own AVX-512 GEMM or Eigen (gemm.h).
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cpu {

// out = deconvolution(data, weight) + bias. Pointers are dense row-major tensors of
// g.data_shape, g.weight_shape, g.bias_shape (bias may be null) and g.out_shape.
template <typename T>
void forward(const Geometry& g, const T* data, const T* weight, const T* bias, T* out,
             const RunOptions& opts, RunStats* stats = nullptr);

// forward() in float arithmetic on double arrays, the result written as doubles: the
// phase path converts as it pads the input and as it stores each output; GEMM + col2im
// runs its GEMMs on float copies of the inputs and adds their results into the doubles
// (col2im then sums in double). No widening pass either way.
void forward_float_on_double(const Geometry& g, const double* data, const double* weight,
                             const double* bias, double* out, const RunOptions& opts,
                             RunStats* stats = nullptr);

// backward() in float arithmetic on double arrays, the results written as doubles:
// channels-first GEMM-path chunks convert dY as im2col reads it and X and dX as they are
// packed, the direct data gradient as it splits dY and stores dX, and the bias gradient
// sums the doubles; dW accumulates in float and is widened. Channels-last layers and the
// depthwise direct path run on float copies, widened after.
void backward_float_on_double(const Geometry& g, const double* out_grad, const double* data,
                              const double* weight, double* data_grad, double* weight_grad,
                              double* bias_grad, const RunOptions& opts,
                              RunStats* stats = nullptr);

// Gradients of the forward pass given out_grad. Any of data_grad, weight_grad and
// bias_grad may be null (not wanted); each wanted one is overwritten.
template <typename T>
void backward(const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts,
              RunStats* stats = nullptr);

}  // namespace cpu
}  // namespace deconv
