// The cuDNN path. A transposed convolution is the data gradient of the convolution that
// has the same weight, so: forward = cudnnConvolutionBackwardData, data gradient =
// cudnnConvolutionForward, weight gradient = cudnnConvolutionBackwardFilter.
// Pointers are device memory in channels-first layout; the caller transposes
// channels-last tensors and handles the bias.
#pragma once

#include "core/cuda/gpu_context.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

// out = deconvolution(data, weight), no bias; overwrites out.
template <typename T>
void cudnn_forward(GpuContext& ctx, const Geometry& g, const T* data, const T* weight, T* out);

// data_grad and/or weight_grad (either may be null), overwritten.
template <typename T>
void cudnn_backward(GpuContext& ctx, const Geometry& g, const T* out_grad, const T* data,
                    const T* weight, T* data_grad, T* weight_grad);

// Forgets the algorithms chosen so far (release_resources() calls it).
void clear_algorithm_cache();

}  // namespace cuda
}  // namespace deconv
