// Per-device cuDNN and cuBLAS handles, created once and reused by every call.
#include "core/cuda/runtime/runtime_context.h"

#include <map>
#include <mutex>

#include "core/cuda/runtime/runtime_status.h"

namespace deconv {
namespace cuda {

namespace {
std::mutex contexts_mutex;
std::map<int, GpuContext> contexts;
}  // namespace

GpuContext& gpu_context(int device) {
  std::lock_guard<std::mutex> lock(contexts_mutex);
  auto it = contexts.find(device);
  if (it != contexts.end()) return it->second;
  GpuContext c;
  c.device = device;
  check(cudnnCreate(&c.cudnn), "cudnnCreate");
  const cublasStatus_t s = cublasCreate(&c.cublas);
  if (s != CUBLAS_STATUS_SUCCESS) {
    cudnnDestroy(c.cudnn);
    throw_cublas(s, "cublasCreate");
  }
  // Products at the requested precision: no TF32 (it would miss the 1e-4 agreement
  // with the CPU in float32).
  check(cublasSetMathMode(c.cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  return contexts.emplace(device, c).first->second;
}

void release_gpu_contexts() {
  std::lock_guard<std::mutex> lock(contexts_mutex);
  int previous = 0;
  const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
  for (auto& kv : contexts) {
    if (cudaSetDevice(kv.first) != cudaSuccess) continue;
    cudnnDestroy(kv.second.cudnn);
    cublasDestroy(kv.second.cublas);
  }
  contexts.clear();
  if (have_previous) cudaSetDevice(previous);
  cudaGetLastError();
}

}  // namespace cuda
}  // namespace deconv
