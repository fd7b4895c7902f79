// float32 runs on R's doubles: inputs are narrowed into float buffers (in parallel),
// and results are computed into the R double vector's own memory as floats, then
// widened in place, so no second output buffer is needed.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "core/huge_pages.h"

namespace deconv {
namespace r {

// Left uninitialized (no zero fill) so that huge pages can be advised before first touch.
inline std::unique_ptr<float[]> narrow(const double* src, int64_t n, int threads) {
  std::unique_ptr<float[]> out(new float[static_cast<size_t>(n)]);
  prefer_huge_pages(out.get(), static_cast<size_t>(n) * sizeof(float));
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(src[i]);
  return out;
}

// The first n floats stored in buf become n doubles, in place. Doubles [lo, hi) with
// lo >= hi / 2 occupy bytes [8 lo, 8 hi), past the floats [lo, hi) they come from (bytes
// below 4 hi), so each such half is widened in parallel, from the top half down.
inline void widen_in_place(double* buf, int64_t n, int threads) {
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
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t i = lo; i < hi; ++i) widen(i);
    hi = lo;
  }
  for (int64_t i = hi; i-- > 0;) widen(i);  // the small rest, top down
}

}  // namespace r
}  // namespace deconv
