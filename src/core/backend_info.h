// What this build and machine offer, and the measurements the benchmarks divide by: the
// front ends' one view of the backends, so that they include nothing from cpu/ or cuda/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"

namespace deconv {

// What the GPU side of this build was compiled against and finds at run time (all empty
// without CUDA); cuda::build_info() fills it.
struct GpuBuildInfo {
  std::string cuda_compiled;    // CUDA version compiled against, "13.0"; "" without CUDA
  std::string cuda_runtime;     // version of the loaded CUDA runtime library
  std::string cuda_driver;      // highest CUDA version the driver supports; "" without one
  std::string cudnn_compiled;   // cuDNN version compiled against, "9.14.0"
  std::string cudnn_runtime;    // version of the loaded cuDNN library
  std::vector<std::string> devices;  // "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)" per device
};

struct BackendInfo : GpuBuildInfo {
  bool cuda = false;            // built with CUDA (whether or not a device is present)
  std::string gemm_f64, gemm_f32;    // the CPU kernels' GEMM backend per precision ("blas")
  int threads = 1;       // threads a call with threads = 0 gets (OpenMP's default)
  int thread_limit = 1;  // the most a call may ask for
};
BackendInfo backend_info();

// Best of `reps` timings, in seconds, of an n x n x n GEMM through the backend and
// threading the CPU kernels use (threads <= 0: the default count): the GEMM peak.
template <typename T>
double gemm_best_seconds(int64_t n, int reps, int threads);

// Median milliseconds of `reps` GPU passes (forward, or backward with all gradients) on
// random device arrays of geometry g: the GPU benchmark's kernel time. Raises the core's
// "no GPU support" error in a build without CUDA.
double gpu_benchmark_ms(int device, const Geometry& g, bool f32, bool with_bias,
                        bool backward_pass, int reps);

}  // namespace deconv
