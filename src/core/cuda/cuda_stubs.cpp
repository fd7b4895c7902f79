// Stand-ins for the GPU entry points in a CPU-only build: each says so clearly.
#include "core/cuda/deconv_cuda.h"
#include "core/error.h"

namespace deconv {
namespace cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw UnsupportedError("ctx", "this build of deconv has no GPU support (CUDA was not found "
                                "when the package was installed); use ctx = \"cpu\"");
}
}  // namespace

bool compiled_with_cuda() { return false; }
int device_count() { return 0; }
void require_device(int) { no_cuda(); }

template <typename T>
void forward(int, const Geometry&, const T*, const T*, const T*, T*, const RunOptions&) {
  no_cuda();
}
template <typename T>
void backward(int, const Geometry&, const T*, const T*, const T*, T*, T*, T*, const RunOptions&) {
  no_cuda();
}

template void forward<float>(int, const Geometry&, const float*, const float*, const float*,
                             float*, const RunOptions&);
template void forward<double>(int, const Geometry&, const double*, const double*, const double*,
                              double*, const RunOptions&);
template void backward<float>(int, const Geometry&, const float*, const float*, const float*,
                              float*, float*, float*, const RunOptions&);
template void backward<double>(int, const Geometry&, const double*, const double*, const double*,
                               double*, double*, double*, const RunOptions&);

}  // namespace cuda
}  // namespace deconv
