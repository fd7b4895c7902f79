// GPU entry points. A build without CUDA links cuda/cuda_stubs.cpp instead of the CUDA
// sources, so every caller compiles the same and gets one clear error at run time.
// Nothing here needs CUDA headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {
namespace cuda {

// ---- What this build and machine offer ------------------------------------------------
bool compiled_with_cuda();
int device_count();  // 0 without support, without a driver or without a device

struct BuildInfo {
  std::string cuda_compiled;    // CUDA version compiled against, "13.0"; "" without CUDA
  std::string cuda_runtime;     // version of the loaded CUDA runtime library
  std::string cuda_driver;      // highest CUDA version the driver supports; "" without one
  std::string cudnn_compiled;   // cuDNN version compiled against, "9.14.0"
  std::string cudnn_runtime;    // version of the loaded cuDNN library
  std::vector<std::string> devices;  // "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)" per device
};
BuildInfo build_info();

// Throws UnsupportedError("ctx", ...) unless GPU `device` can be used by this build.
void require_device(int device);

// Frees cuDNN/cuBLAS handles and the algorithm cache (the package is being unloaded).
void release_resources();

// ---- Host arrays: copied to the device, computed, copied back --------------------------
template <typename T>
void forward(int device, const Geometry& g, const T* data, const T* weight, const T* bias,
             T* out, const RunOptions& opts);

template <typename T>
void backward(int device, const Geometry& g, const T* out_grad, const T* data, const T* weight,
              T* data_grad, T* weight_grad, T* bias_grad, const RunOptions& opts);

// ---- Arrays that stay on the device (executors keep them between passes) --------------
struct DeviceArray {
  int device = 0;
  bool f32 = false;      // float elements; otherwise double
  int64_t size = 0;      // number of elements
  std::shared_ptr<void> mem;  // device memory; the deleter frees it on `device`
  template <typename T>
  T* data() const { return static_cast<T*>(mem.get()); }
};

DeviceArray device_alloc(int device, int64_t size, bool f32);  // contents undefined
DeviceArray device_upload(int device, const double* host, int64_t size, bool f32);
void device_download(const DeviceArray& a, double* host);      // a.size doubles
void device_accumulate(const DeviceArray& acc, const DeviceArray& x);  // acc += x

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
