// What this build and machine offer on the GPU side, and the device check every GPU call
// starts with. Implemented by
// runtime_device_info.cpp; in a build without CUDA by cuda/cuda_stubs.cpp. Nothing here
// needs CUDA headers.
#pragma once

#include "core/backend_info.h"

namespace deconv {
namespace cuda {

bool compiled_with_cuda();
int device_count();  // 0 without support, without a driver or without a device

using BuildInfo = GpuBuildInfo;  // core/backend_info.h: the front ends read it there
BuildInfo build_info();

// Throws UnsupportedError("ctx", ...) unless GPU `device` can be used by this build.
void require_device(int device);

}  // namespace cuda
}  // namespace deconv
