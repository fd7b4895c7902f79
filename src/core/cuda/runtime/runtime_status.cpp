// The status-to-error conversions of runtime_status.h.
#include "core/cuda/runtime/runtime_status.h"

#include <string>

#include "core/error.h"

namespace deconv {
namespace cuda {

[[noreturn]] void throw_cuda(cudaError_t status, const char* what) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw DeviceError("ctx", std::string(what) + " failed: " + cudaGetErrorName(status) + " (" +
                               cudaGetErrorString(status) + ")");
}

[[noreturn]] void throw_cublas(cublasStatus_t status, const char* what) {
  throw DeviceError("ctx", std::string(what) + " failed: " + cublasGetStatusName(status) + " (" +
                               cublasGetStatusString(status) + ")");
}

[[noreturn]] void throw_cudnn(cudnnStatus_t status, const char* what) {
  throw DeviceError("ctx", std::string(what) + " failed: " + cudnnGetErrorString(status));
}

}  // namespace cuda
}  // namespace deconv
