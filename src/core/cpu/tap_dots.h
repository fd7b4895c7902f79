// The inner loop of the direct weight gradient (phase_backward.cpp): for a block of
// channels and the width taps of one (filter, kd, kh), the dot products of the data
// rows with the dY rows each tap meets, summed over many (sample, row) pairs in SIMD
// registers and added to dW once. Built, like the phase kernel, portable and with AVX2
// and AVX-512 (tap_dots.inc, included by phase_kernel_<variant>.cpp).
#pragma once

#include <cstdint>

namespace deconv {
namespace cpu {

// dw[a * dw_stride + kw[j]] += sum over pairs p, i < valid of
//   x[p][a * x_stride + i] * y[p][y_off[j] + i]
// for channels a < channels and taps j < taps. The data rows hold width values, a
// multiple of the build's lanes (zero-padded copies, or the array's rows when valid is
// width already); the dY rows are readable that far.
template <typename T>
struct TapDots {
  const T* const* x;  // per pair: channel 0's data row
  const T* const* y;  // per pair: the dY row (its phase rows, see phase_backward.cpp)
  int64_t pairs, width, valid, x_stride, channels;
  const int64_t* y_off;
  const int64_t* kw;
  int64_t taps;
  T* dw;  // channel 0's dW at (filter, kd, kh, kw = 0)
  int64_t dw_stride;
};

template <typename T>
void tap_dots_portable(const TapDots<T>& a);
template <typename T>
void tap_dots_avx2(const TapDots<T>& a);
template <typename T>
void tap_dots_avx512(const TapDots<T>& a);

// The build the CPU runs, chosen as for the phase kernel (phase_kernel.cpp), with its
// vector length in elements of T (the width data rows are padded to).
template <typename T>
struct TapDotsBuild {
  void (*run)(const TapDots<T>&);
  int64_t lanes;
};
template <typename T>
TapDotsBuild<T> tap_dots_build();

}  // namespace cpu
}  // namespace deconv
