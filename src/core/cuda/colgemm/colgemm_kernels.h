// Launchers of the cudnn_off path's column kernels (colgemm_kernels.cu), on the current
// device's default stream. A chunk is `samples` samples by `ch` consecutive channels; the
// tensor pointer is offset to the chunk's first plane and `sample_stride` apart per
// sample; the columns hold the chunk's planes one after the other, K*S values each
// (see colgemm_index.h).
#pragma once

#include <cstdint>

#include "core/cuda/colgemm/colgemm_index.h"

namespace deconv {
namespace cuda {

// y = col2im(col) over the chunk's output planes (overwrites; one thread per element).
template <typename T>
void col2im(const T* col, T* y, const ColGeom& g, int64_t samples, int64_t ch,
            int64_t sample_stride);

// col = im2col(dy) over the chunk's column planes (one thread per column element).
template <typename T>
void im2col(const T* dy, T* col, const ColGeom& g, int64_t samples, int64_t ch,
            int64_t sample_stride);

}  // namespace cuda
}  // namespace deconv
