// The cuDNN path. A transposed convolution is the data gradient of the convolution that
// has the same weight, so: forward = cudnnConvolutionBackwardData, data gradient =
// cudnnConvolutionForward, weight gradient = cudnnConvolutionBackwardFilter.
// Pointers are device memory in channels-first layout; the caller transposes
// channels-last tensors and handles the bias.
#pragma once

#include "core/cuda/runtime/runtime_context.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

// out = deconvolution(data, weight), no bias; overwrites out. Interrupts (opts) are
// checked on the calling thread before each algorithm search and each cuDNN call;
// Interrupted leaves out incomplete, and every temporary is freed (RAII).
template <typename T>
void cudnn_forward(GpuContext& ctx, const Geometry& g, const T* data, const T* weight, T* out,
                   const RunOptions& opts);

// data_grad and/or weight_grad (either may be null), overwritten; interrupts as above.
template <typename T>
void cudnn_backward(GpuContext& ctx, const Geometry& g, const T* out_grad, const T* data,
                    const T* weight, T* data_grad, T* weight_grad, const RunOptions& opts);

// Forgets the algorithms chosen so far (release_resources() calls it).
void clear_algorithm_cache();

}  // namespace cuda
}  // namespace deconv
