// The facade of backend_info.h over cpu/ (GEMM backend and timing) and cuda/ (build
// information and the GPU benchmark).
#include "core/backend_info.h"

#include "core/cpu/gemm.h"
#include "core/cpu/gemm_benchmark.h"
#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/run_options.h"

namespace deconv {

BackendInfo backend_info() {
  BackendInfo info;
  static_cast<GpuBuildInfo&>(info) = cuda::build_info();
  info.cuda = cuda::compiled_with_cuda();
  info.gemm_f64 = cpu::gemm_backend_name(cpu::gemm_backend<double>());
  info.gemm_f32 = cpu::gemm_backend_name(cpu::gemm_backend<float>());
  info.threads = resolve_threads(0);
  info.thread_limit = thread_limit();
  return info;
}

template <typename T>
double gemm_best_seconds(int64_t n, int reps, int threads) {
  return cpu::gemm_best_seconds<T>(n, reps, threads);
}
template double gemm_best_seconds<float>(int64_t, int, int);
template double gemm_best_seconds<double>(int64_t, int, int);

double gpu_benchmark_ms(int device, const Geometry& g, bool f32, bool with_bias,
                        bool backward_pass, int reps) {
  return cuda::benchmark_ms(device, g, f32, with_bias, backward_pass, reps);
}

}  // namespace deconv
