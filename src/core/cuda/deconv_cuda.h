// GPU entry points. A build without CUDA links cuda/cuda_stubs.cpp instead of the .cu
// files, so every caller compiles the same and gets one clear error at run time.
#pragma once

#include <string>

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

bool compiled_with_cuda();
int device_count();  // 0 without support or without a device

// Throws UnsupportedError("ctx", ...) unless GPU `device` can be used by this build.
void require_device(int device);

template <typename T>
void forward(int device, const Geometry& g, const T* data, const T* weight, const T* bias,
             T* out, const RunOptions& opts);

template <typename T>
void backward(int device, const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts);

}  // namespace cuda
}  // namespace deconv
