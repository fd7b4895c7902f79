// Per-element index math of the cudnn_off GPU path, usable on the host and the device
// (so a CPU-only test can check it). Column buffers hold, per (sample, filter) plane of a
// chunk, K x S values: row t (a kernel tap, flattened (kd, kh, kw)) and column s (an
// input position, flattened (id, ih, iw)). Tap t of input position i lands on output
// position o = stride*i + dilate*t - pad (per dimension); outside [0, out) it is dropped.
//   col2im: an output element gathers the column values of every (t, i) landing on it.
//   im2col: a column element is dY at the output position its (t, i) lands on, or 0.
// Both write each destination element once (no atomics), so results are deterministic.
#pragma once

#include <cstdint>

#include "core/shape.h"

#ifdef __CUDACC__
#define DECONV_HD __host__ __device__
#else
#define DECONV_HD
#endif

namespace deconv {
namespace cuda {

// The geometry the element functions need, as plain values (passed to kernels by value).
struct ColGeom {
  int64_t in[3], out[3], kernel[3], stride[3], dilate[3], pad[3];
  int64_t in_positions;   // input positions per plane: in[0] * in[1] * in[2] (S below)
  int64_t out_positions;  // output positions per plane (So)
  int64_t taps;           // kernel taps (K)
};

inline ColGeom make_col_geom(const Geometry& g) {
  ColGeom c{};
  for (int k = 0; k < 3; ++k) {
    c.in[k] = g.in[k];
    c.out[k] = g.out[k];
    c.kernel[k] = g.kernel[k];
    c.stride[k] = g.stride[k];
    c.dilate[k] = g.dilate[k];
    c.pad[k] = g.pad[k];
  }
  c.in_positions = g.in_size();
  c.out_positions = g.out_size();
  c.taps = g.kernel_size();
  return c;
}

// Output position `o` (flattened (od, oh, ow)) of one plane: the sum over every tap t and
// input position i with stride*i + dilate*t - pad == o (per dimension) of col[t*S + i],
// where `col` is the plane's K x S column block. Requires pad >= 0.
template <typename T>
DECONV_HD inline T col2im_element(const T* col, const ColGeom& g, int64_t o) {
  const int64_t ow = o % g.out[2];
  const int64_t q = o / g.out[2];
  const int64_t oh = q % g.out[1];
  const int64_t od = q / g.out[1];
  T acc = T(0);
  // v = o + pad - dilate*t falls as t grows: once negative, no later tap lands here.
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    const int64_t vd = od + g.pad[0] - kd * g.dilate[0];
    if (vd < 0) break;
    if (vd % g.stride[0] != 0) continue;
    const int64_t id = vd / g.stride[0];
    if (id >= g.in[0]) continue;
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const int64_t vh = oh + g.pad[1] - kh * g.dilate[1];
      if (vh < 0) break;
      if (vh % g.stride[1] != 0) continue;
      const int64_t ih = vh / g.stride[1];
      if (ih >= g.in[1]) continue;
      const T* row = col + ((kd * g.kernel[1] + kh) * g.kernel[2]) * g.in_positions +
                     (id * g.in[1] + ih) * g.in[2];
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const int64_t vw = ow + g.pad[2] - kw * g.dilate[2];
        if (vw < 0) break;
        if (vw % g.stride[2] != 0) continue;
        const int64_t iw = vw / g.stride[2];
        if (iw >= g.in[2]) continue;
        acc += row[kw * g.in_positions + iw];
      }
    }
  }
  return acc;
}

// Column element r = t*S + s of one plane: dy (the plane's output gradient, So values) at
// the output position tap t of input position s lands on, or 0 outside the output.
template <typename T>
DECONV_HD inline T im2col_element(const T* dy, const ColGeom& g, int64_t r) {
  const int64_t t = r / g.in_positions;
  const int64_t s = r - t * g.in_positions;
  const int64_t iw = s % g.in[2];
  int64_t q = s / g.in[2];
  const int64_t ih = q % g.in[1];
  const int64_t id = q / g.in[1];
  const int64_t kw = t % g.kernel[2];
  q = t / g.kernel[2];
  const int64_t kh = q % g.kernel[1];
  const int64_t kd = q / g.kernel[1];
  const int64_t od = id * g.stride[0] - g.pad[0] + kd * g.dilate[0];
  const int64_t oh = ih * g.stride[1] - g.pad[1] + kh * g.dilate[1];
  const int64_t ow = iw * g.stride[2] - g.pad[2] + kw * g.dilate[2];
  if (od < 0 || od >= g.out[0] || oh < 0 || oh >= g.out[1] || ow < 0 || ow >= g.out[2])
    return T(0);
  return dy[(od * g.out[1] + oh) * g.out[2] + ow];
}

// ---- One chunk: `samples` samples by `ch` consecutive channels ---------------------------------
// The chunk's columns are planes (n, c) for n < samples, c < ch at col + (n*ch + c) * K*S; the
// tensor side (y or dy, already offset to the chunk's first plane) has plane (n, c) at
// n * sample_stride + c * So.

// Element `idx` < samples*ch*So of the chunk's output: y[...] = its col2im gather.
template <typename T>
DECONV_HD inline void col2im_at(int64_t idx, const T* col, T* y, const ColGeom& g, int64_t ch,
                                int64_t sample_stride) {
  const int64_t o = idx % g.out_positions;
  const int64_t plane = idx / g.out_positions;
  const int64_t c = plane % ch;
  const int64_t n = plane / ch;
  y[n * sample_stride + c * g.out_positions + o] =
      col2im_element(col + plane * g.taps * g.in_positions, g, o);
}

// Element `idx` < samples*ch*K*S of the chunk's columns: col[idx] = its im2col value.
template <typename T>
DECONV_HD inline void im2col_at(int64_t idx, const T* dy, T* col, const ColGeom& g, int64_t ch,
                                int64_t sample_stride) {
  const int64_t ks = g.taps * g.in_positions;
  const int64_t r = idx % ks;
  const int64_t plane = idx / ks;
  const int64_t c = plane % ch;
  const int64_t n = plane / ch;
  col[idx] = im2col_element(dy + n * sample_stride + c * g.out_positions, g, r);
}

}  // namespace cuda
}  // namespace deconv
