// float32 arithmetic on double arrays (R's numeric vectors), where the kernel cannot
// convert by itself: inputs are narrowed into float buffers (in parallel), and results
// are computed into the double array's own memory as floats, then widened in place, so
// no second output buffer is needed.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/huge_pages.h"
#include "core/run_options.h"
#include "core/shape.h"

namespace deconv {

// Values per pass between interrupt checks: a few ms of memory traffic, so a conversion
// of a huge array still stops promptly (the check runs on the calling thread).
constexpr int64_t kConvertBlock = int64_t(1) << 23;

// Left uninitialized (no zero fill) so that huge pages can be advised before first touch.
inline std::unique_ptr<float[]> narrow(const double* src, int64_t n, const RunOptions& opts) {
  std::unique_ptr<float[]> out(new float[static_cast<size_t>(n)]);
  prefer_huge_pages(out.get(), static_cast<size_t>(n) * sizeof(float));
  const int threads = opts.threads;
  for (int64_t b = 0; b < n; b += kConvertBlock) {
    if (b) throw_if_interrupted(opts);
    const int64_t e = std::min(n, b + kConvertBlock);
    parallel_for(e - b > (1 << 16) ? threads : 1, e - b,
                 [&](int64_t i) { out[b + i] = static_cast<float>(src[b + i]); });
  }
  return out;
}

// A float copy of a tensor of `shape` (null stays null: an absent bias).
inline std::unique_ptr<float[]> narrowed(const double* src, const Shape& shape,
                                         const RunOptions& opts) {
  return src ? narrow(src, element_count(shape), opts) : nullptr;
}

// n values of IO read as T: the array itself when IO is T, else a copy kept in `copy`
// (null stays null: an absent bias). For small arrays, such as a bias row.
template <typename T, typename IO>
const T* as_type(const IO* src, int64_t n, std::vector<T>& copy) {
  if constexpr (std::is_same<T, IO>::value) {
    return src;
  } else {
    if (!src) return nullptr;
    copy.assign(src, src + n);
    return copy.data();
  }
}

// The first n floats stored in buf become n doubles, in place. Doubles [lo, hi) with
// lo >= hi / 2 occupy bytes [8 lo, 8 hi), past the floats [lo, hi) they come from (bytes
// below 4 hi), so each such half is widened in parallel, from the top half down.
inline void widen_in_place(double* buf, int64_t n, const RunOptions& opts) {
  const int threads = opts.threads;
  unsigned char* bytes = reinterpret_cast<unsigned char*>(buf);
  auto widen = [bytes](int64_t i) {
    float f;
    std::memcpy(&f, bytes + 4 * i, sizeof f);
    const double d = f;
    std::memcpy(bytes + 8 * i, &d, sizeof d);
  };
  int64_t hi = n;
  while (hi > (int64_t(1) << 14)) {
    const int64_t lo = (hi + 1) / 2;
    for (int64_t b = lo; b < hi; b += kConvertBlock) {  // any order within the half
      if (b > lo || hi - lo >= kConvertBlock) throw_if_interrupted(opts);
      const int64_t e = std::min(hi, b + kConvertBlock);
      parallel_for(threads, e - b, [&](int64_t i) { widen(b + i); });
    }
    hi = lo;
  }
  for (int64_t i = hi; i-- > 0;) widen(i);  // the small rest, top down
}

// The floats a kernel wrote at the start of a double array of `shape` become its
// doubles (null: nothing to widen).
inline void widen_result(double* out, const Shape& shape, const RunOptions& opts) {
  if (out) widen_in_place(out, element_count(shape), opts);
}

// A double array's memory, for a kernel that writes floats there before widen_result.
inline float* as_floats(double* p) { return reinterpret_cast<float*>(p); }

// float gradients of double arrays through a kernel that needs float arrays: fn(dy, x,
// w, dx, dw, db) gets float copies of the inputs and writes its floats at the start of
// the (possibly null) result arrays, which are then widened.
template <class Fn>
void on_float_copies(const Geometry& g, const double* out_grad, const double* data,
                     const double* weight, double* data_grad, double* weight_grad,
                     double* bias_grad, const RunOptions& opts, Fn&& fn) {
  const auto dy = narrowed(out_grad, g.out_shape, opts), x = narrowed(data, g.data_shape, opts),
             w = narrowed(weight, g.weight_shape, opts);
  fn(dy.get(), x.get(), w.get(), as_floats(data_grad), as_floats(weight_grad),
     as_floats(bias_grad));
  widen_result(data_grad, g.data_shape, opts);
  widen_result(weight_grad, g.weight_shape, opts);
  widen_result(bias_grad, g.bias_shape, opts);
}

}  // namespace deconv
