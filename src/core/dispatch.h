// The one device dispatch: every front end calls these, never a kernel directly, whether
// its arrays live on the host (R's memory) or stay on a GPU (core/device_array.h).
#pragma once

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {

enum class Device { CPU, GPU };

struct Context {
  Device device = Device::CPU;
  int device_id = 0;
};

// ---- Host arrays: computed on ctx's device (a GPU copies them in and out) -------------
template <typename T>
void deconvolution_forward(const Context& ctx, const Geometry& g, const T* data, const T* weight,
                           const T* bias, T* out, const RunOptions& opts,
                           RunStats* stats = nullptr);

template <typename T>
void deconvolution_backward(const Context& ctx, const Geometry& g, const T* out_grad,
                            const T* data, const T* weight, T* data_grad, T* weight_grad,
                            T* bias_grad, const RunOptions& opts, RunStats* stats = nullptr);

// float32 arithmetic on double host arrays (R's numeric vectors), results as doubles.
// The CPU forward writes the doubles itself (cpu::forward_float_on_double); the GPU and
// every backward run on float copies of the inputs, float results widened in place
// (precision.h).
void deconvolution_forward_float32(const Context& ctx, const Geometry& g, const double* data,
                                   const double* weight, const double* bias, double* out,
                                   const RunOptions& opts, RunStats* stats = nullptr);

void deconvolution_backward_float32(const Context& ctx, const Geometry& g,
                                    const double* out_grad, const double* data,
                                    const double* weight, double* data_grad,
                                    double* weight_grad, double* bias_grad,
                                    const RunOptions& opts, RunStats* stats = nullptr);

// ---- Device memory: every pointer on GPU `device` (e.g. DeviceArray::data) -------------
// Null bias and gradients as above. Raises the core's "no GPU support" error in a build
// without CUDA.
template <typename T>
void deconvolution_forward_on_device(int device, const Geometry& g, const T* data,
                                     const T* weight, const T* bias, T* out,
                                     const RunOptions& opts);

template <typename T>
void deconvolution_backward_on_device(int device, const Geometry& g, const T* out_grad,
                                      const T* data, const T* weight, T* data_grad,
                                      T* weight_grad, T* bias_grad, const RunOptions& opts);

// Throws UnsupportedError("ctx", ...) unless GPU `device` can be used by this build.
void require_gpu(int device);

// Frees the GPU library handles and the algorithm cache (the package is being unloaded);
// nothing in a build without CUDA.
void release_gpu_resources();

}  // namespace deconv
