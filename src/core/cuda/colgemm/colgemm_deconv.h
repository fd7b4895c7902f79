// The GPU path taken with cudnn_off: cuBLAS GEMMs plus deconv's own col2im / im2col
// kernels, batch-chunked so temporaries stay within Geometry::workspace_mb.
// Pointers are device memory in channels-first layout (the caller transposes
// channels-last tensors and adds the bias); `g` describes that channels-first problem.
#pragma once

#include "core/cuda/runtime/runtime_context.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

// out = deconvolution(data, weight) (no bias), overwriting out.
template <typename T>
void colgemm_forward(GpuContext& ctx, const Geometry& g, const T* data, const T* weight, T* out,
                     const RunOptions& opts);

// data_grad and/or weight_grad (either may be null), overwritten.
template <typename T>
void colgemm_backward(GpuContext& ctx, const Geometry& g, const T* out_grad, const T* data,
                      const T* weight, T* data_grad, T* weight_grad, const RunOptions& opts);

}  // namespace cuda
}  // namespace deconv
