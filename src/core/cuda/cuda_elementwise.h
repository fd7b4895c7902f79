// Element-wise CUDA kernels shared by the GPU paths (implemented in cuda_elementwise.cu).
// Every function launches on the current device's default stream and checks the launch.
// Tensors are dense row-major; spatial boxes are (d, h, w) as in Geometry.
#pragma once

#include <array>
#include <cstdint>

namespace deconv {
namespace cuda {

using Box = std::array<int64_t, 3>;

// (n, inner, c) -> (n, c, inner): channels-last data to channels-first; also turns a
// channels-last weight (C, kernel..., F/g) into (C, F/g, kernel...).
template <typename T>
void transpose_last_to_first(const T* src, T* dst, int64_t n, int64_t inner, int64_t c);

// (n, c, inner) -> (n, inner, c): the inverse.
template <typename T>
void transpose_first_to_last(const T* src, T* dst, int64_t n, int64_t c, int64_t inner);

// y[i, ch, :] += b[ch] for i < n, ch < c (channels-first, `inner` spatial elements).
template <typename T>
void add_bias(T* y, const T* b, int64_t n, int64_t c, int64_t inner);

// db[ch] = sum over i < n and the spatial elements of dy[i, ch, :] (deterministic).
template <typename T>
void bias_grad(const T* dy, T* db, int64_t n, int64_t c, int64_t inner);

// For each of `planes` planes: dst[z, y, x] = src[z + off[0], y + off[1], x + off[2]],
// or 0 where that index falls outside src_box. Crops (offset >= 0) and zero-pads
// (offset < 0) between a box cuDNN can produce and the requested output box.
template <typename T>
void copy_window(const T* src, const Box& src_box, T* dst, const Box& dst_box,
                 const Box& offset, int64_t planes);

// acc[i] += x[i] for i < n.
template <typename T>
void accumulate(T* acc, const T* x, int64_t n);

// Fills n elements with values uniform in [-1, 1) from `seed` (benchmarks).
template <typename T>
void fill_uniform(T* x, int64_t n, uint64_t seed);

}  // namespace cuda
}  // namespace deconv
