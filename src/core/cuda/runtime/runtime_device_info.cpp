// What the CUDA build reports about itself and the machine, the device check every GPU
// call starts with (runtime_device_info.h).
#include "core/cuda/runtime/runtime_device_info.h"

#include <cstdio>
#include <string>

#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "core/error.h"

namespace deconv {
namespace cuda {

namespace {

std::string cuda_version_string(int v) {  // 13000 -> "13.0"
  return v > 0 ? std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10) : "";
}

std::string cudnn_version_string(size_t v) {  // cuDNN 9: 91400 -> "9.14.0"
  if (v == 0) return "";
  const size_t major = v >= 90000 ? v / 10000 : v / 1000;
  const size_t rest = v >= 90000 ? v % 10000 : v % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." + std::to_string(rest % 100);
}

// Device count and the status that explains a zero (no driver, no device).
int probe_devices(cudaError_t* status) {
  int n = 0;
  *status = cudaGetDeviceCount(&n);
  if (*status != cudaSuccess) {
    cudaGetLastError();  // clear it: a missing device is an answer, not an error
    return 0;
  }
  return n;
}

}  // namespace

bool compiled_with_cuda() { return true; }

int device_count() {
  cudaError_t status;
  return probe_devices(&status);
}

BuildInfo build_info() {
  BuildInfo info;
  info.cuda_compiled = cuda_version_string(CUDART_VERSION);
  int v = 0;
  if (cudaRuntimeGetVersion(&v) == cudaSuccess) info.cuda_runtime = cuda_version_string(v);
  v = 0;
  if (cudaDriverGetVersion(&v) == cudaSuccess) info.cuda_driver = cuda_version_string(v);
  cudaGetLastError();
  info.cudnn_compiled = std::to_string(CUDNN_MAJOR) + "." + std::to_string(CUDNN_MINOR) + "." +
                        std::to_string(CUDNN_PATCHLEVEL);
  info.cudnn_runtime = cudnn_version_string(cudnnGetVersion());
  cudaError_t status;
  const int n = probe_devices(&status);
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) {
      cudaGetLastError();
      info.devices.push_back("(unreadable)");
      continue;
    }
    char line[512];
    std::snprintf(line, sizeof line, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
                  static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    info.devices.push_back(line);
  }
  return info;
}

void require_device(int device) {
  cudaError_t status;
  const int n = probe_devices(&status);
  if (n == 0) {
    throw UnsupportedError(
        "ctx", std::string("no CUDA device is available (cudaGetDeviceCount: ") +
                   cudaGetErrorName(status) + "); use ctx = \"cpu\"");
  }
  if (device < 0 || device >= n) {
    throw UnsupportedError("ctx", "GPU " + std::to_string(device) + " does not exist: " +
                                      std::to_string(n) + " CUDA device" + (n > 1 ? "s" : "") +
                                      " found, numbered from 0");
  }
}

}  // namespace cuda
}  // namespace deconv
