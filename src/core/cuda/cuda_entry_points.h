// The GPU computations core/dispatch.cpp routes to: on host arrays (copied in and out)
// and on device memory, the GPU benchmark, and the release of the library handles. Implemented by cuda_entry_points.cpp; a
// build without CUDA links cuda/cuda_stubs.cpp instead, so every caller compiles the same
// and gets one clear error at run time. Nothing here needs CUDA headers.
#pragma once

#include <cstdint>

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

// ---- Host arrays: copied to the device, computed, copied back --------------------------
template <typename T>
void forward(int device, const Geometry& g, const T* data, const T* weight, const T* bias,
             T* out, const RunOptions& opts);

template <typename T>
void backward(int device, const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts);

// ---- Device memory (e.g. DeviceArray::data) ------------------------------------------
// Same computations on device pointers (all on `device`); null bias / grads as above.
template <typename T>
void forward_on_device(int device, const Geometry& g, const T* data, const T* weight,
                       const T* bias, T* out, const RunOptions& opts);

template <typename T>
void backward_on_device(int device, const Geometry& g, const T* out_grad, const T* data,
                        const T* weight, T* data_grad, T* weight_grad, T* bias_grad,
                        const RunOptions& opts);

// Median milliseconds of `reps` passes ("forward" or "backward", all gradients) on random
// device arrays after a warm-up, timed with CUDA events: the benchmark's kernel time.
double benchmark_ms(int device, const Geometry& g, bool f32, bool with_bias, bool backward_pass,
                    int reps);

// Frees cuDNN/cuBLAS handles and the algorithm cache (the package is being unloaded).
void release_resources();

// Explicit instantiations of the four templated entry points, for the CUDA build and
// the stubs alike.
#define DECONV_CUDA_INSTANTIATE_ENTRY_POINTS(T)                                                \
  template void forward<T>(int, const Geometry&, const T*, const T*, const T*, T*,            \
                           const RunOptions&);                                                 \
  template void backward<T>(int, const Geometry&, const T*, const T*, const T*, T*, T*, T*,   \
                            const RunOptions&);                                                \
  template void forward_on_device<T>(int, const Geometry&, const T*, const T*, const T*, T*,  \
                                     const RunOptions&);                                       \
  template void backward_on_device<T>(int, const Geometry&, const T*, const T*, const T*, T*, \
                                      T*, T*, const RunOptions&);

}  // namespace cuda
}  // namespace deconv
