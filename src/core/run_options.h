// How a kernel runs: thread count and the interrupt check, passed in by the caller so
// the core stays free of any front end (the R adapter lives in src/r_interrupt.h).
#pragma once

#include <cstdint>
#include <functional>

namespace deconv {

struct RunOptions {
  int threads = 1;
  // Called on the calling thread between chunks of work; returns true to stop. The
  // kernel then finishes no further chunks and throws deconv::Interrupted.
  std::function<bool()> interrupted;
};

// What a run used, for benchmarks and tests of the workspace bound.
struct RunStats {
  int64_t temp_bytes = 0;  // peak bytes of temporaries the kernel allocated
};

}  // namespace deconv

#ifdef _OPENMP
#include <omp.h>
#endif

namespace deconv {

// `requested` threads, or OpenMP's default when it is 0 or less.
inline int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

}  // namespace deconv
