// What this build and machine offer on the GPU side, and the device check every GPU call
// starts with. Implemented by
// runtime_device_info.cpp; in a build without CUDA by cuda/cuda_stubs.cpp. Nothing here
// needs CUDA headers.
#pragma once

#include <string>
#include <vector>

namespace deconv {
namespace cuda {

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

}  // namespace cuda
}  // namespace deconv
