// Per-device library handles, created on first use and kept for the next calls; freed
// by release_resources() when the package unloads. All work goes to the device's
// default stream, so host copies and kernels are ordered without extra syncs.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

namespace deconv {
namespace cuda {

struct GpuContext {
  int device = 0;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
};

// The context of `device` (which must be current: see DeviceGuard).
GpuContext& gpu_context(int device);

// Destroys every handle (release_resources() calls it).
void release_gpu_contexts();

}  // namespace cuda
}  // namespace deconv
