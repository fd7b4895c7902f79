// Turns CUDA runtime, cuBLAS and cuDNN status codes into deconv::DeviceError, naming the
// call that failed and carrying the library's own status string.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

namespace deconv {
namespace cuda {

[[noreturn]] void throw_cuda(cudaError_t status, const char* what);
[[noreturn]] void throw_cublas(cublasStatus_t status, const char* what);
[[noreturn]] void throw_cudnn(cudnnStatus_t status, const char* what);

inline void check(cudaError_t s, const char* what) {
  if (s != cudaSuccess) throw_cuda(s, what);
}
inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_cublas(s, what);
}
inline void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw_cudnn(s, what);
}

// After a kernel launch: reports a bad launch configuration at once.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace cuda
}  // namespace deconv
