// Stand-ins for the GPU side in a CPU-only build (the CUDA build compiles every other
// file under core/cuda instead): the functions of cuda_entry_points.h,
// runtime/runtime_device_info.h and core/device_array.h, each failing with one error
// that says so clearly.
#include "core/cuda/cuda_entry_points.h"
#include "core/cuda/runtime/runtime_device_info.h"
#include "core/device_array.h"
#include "core/error.h"

namespace deconv {

namespace {
[[noreturn]] void no_cuda() {
  throw UnsupportedError("ctx", "this build of deconv has no GPU support (CUDA was not found "
                                "when the package was installed); use ctx = \"cpu\"");
}
}  // namespace

// ---- core/device_array.h ---------------------------------------------------------------
DeviceArray device_alloc(int, int64_t, bool) { no_cuda(); }
DeviceArray device_upload(int, const double*, int64_t, bool) { no_cuda(); }
void device_download(const DeviceArray&, double*) { no_cuda(); }
void device_accumulate(const DeviceArray&, const DeviceArray&) { no_cuda(); }

namespace cuda {

// ---- runtime/runtime_device_info.h -----------------------------------------------------
bool compiled_with_cuda() { return false; }
int device_count() { return 0; }
BuildInfo build_info() { return {}; }
void require_device(int) { no_cuda(); }

// ---- cuda_entry_points.h ---------------------------------------------------------------
void release_resources() {}

template <typename T>
void forward(int, const Geometry&, const T*, const T*, const T*, T*, const RunOptions&) {
  no_cuda();
}
template <typename T>
void backward(int, const Geometry&, const T*, const T*, const T*, T*, T*, T*, const RunOptions&) {
  no_cuda();
}
template <typename T>
void forward_on_device(int, const Geometry&, const T*, const T*, const T*, T*,
                       const RunOptions&) {
  no_cuda();
}
template <typename T>
void backward_on_device(int, const Geometry&, const T*, const T*, const T*, T*, T*, T*,
                        const RunOptions&) {
  no_cuda();
}
double benchmark_ms(int, const Geometry&, bool, bool, bool, int) { no_cuda(); }

DECONV_CUDA_INSTANTIATE_ENTRY_POINTS(float)
DECONV_CUDA_INSTANTIATE_ENTRY_POINTS(double)

}  // namespace cuda
}  // namespace deconv
