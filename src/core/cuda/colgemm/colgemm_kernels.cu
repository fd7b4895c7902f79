// col2im / im2col kernels of the cudnn_off path: one thread per destination element,
// gathering with the index math of colgemm_index.h (no atomics: deterministic).
#include "core/cuda/colgemm/colgemm_kernels.h"

#include "core/cuda/runtime/runtime_launch.cuh"
#include "core/cuda/runtime/runtime_status.h"

namespace deconv {
namespace cuda {

namespace {

template <typename T>
__global__ void col2im_kernel(const T* __restrict__ col, T* __restrict__ y, ColGeom g,
                              int64_t total, int64_t ch, int64_t sample_stride) {
  for (int64_t i = grid_index(); i < total; i += grid_stride())
    col2im_at(i, col, y, g, ch, sample_stride);
}

template <typename T>
__global__ void im2col_kernel(const T* __restrict__ dy, T* __restrict__ col, ColGeom g,
                              int64_t total, int64_t ch, int64_t sample_stride) {
  for (int64_t i = grid_index(); i < total; i += grid_stride())
    im2col_at(i, dy, col, g, ch, sample_stride);
}

}  // namespace

template <typename T>
void col2im(const T* col, T* y, const ColGeom& g, int64_t samples, int64_t ch,
            int64_t sample_stride) {
  const int64_t total = samples * ch * g.out_positions;
  if (total <= 0) return;
  col2im_kernel<T><<<blocks_for(total), kThreads>>>(col, y, g, total, ch, sample_stride);
  check_launch("col2im_kernel");
}

template <typename T>
void im2col(const T* dy, T* col, const ColGeom& g, int64_t samples, int64_t ch,
            int64_t sample_stride) {
  const int64_t total = samples * ch * g.taps * g.in_positions;
  if (total <= 0) return;
  im2col_kernel<T><<<blocks_for(total), kThreads>>>(dy, col, g, total, ch, sample_stride);
  check_launch("im2col_kernel");
}

#define DECONV_INSTANTIATE(T)                                                          \
  template void col2im<T>(const T*, T*, const ColGeom&, int64_t, int64_t, int64_t);    \
  template void im2col<T>(const T*, T*, const ColGeom&, int64_t, int64_t, int64_t);
DECONV_INSTANTIATE(float)
DECONV_INSTANTIATE(double)
#undef DECONV_INSTANTIATE

}  // namespace cuda
}  // namespace deconv
