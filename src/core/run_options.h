// How a kernel runs: thread count and the interrupt check, passed in by the caller so
// the core stays free of any front end (the R adapter lives in src/r_interrupt.h).
#pragma once

#include <cstdint>
#include <functional>

#include "core/error.h"

namespace deconv {

struct RunOptions {
  int threads = 1;
  // Called on the calling thread between chunks of work; returns true to stop. The
  // kernel then finishes no further chunks and throws deconv::Interrupted.
  std::function<bool()> interrupted;
};

// Throws Interrupted when the caller's callback reports an interrupt (between chunks).
inline void throw_if_interrupted(const RunOptions& opts) {
  if (opts.interrupted && opts.interrupted()) throw Interrupted();
}

// What a run used, for benchmarks and tests of the workspace bound. The fields after
// temp_bytes say how the CPU kernel planned the work (set when it has chunks to run), so
// tests can tell which of its code paths a case took; GPU runs leave them untouched.
struct RunStats {
  int64_t temp_bytes = 0;        // peak bytes of temporaries the kernel allocated
  int64_t chunk_samples = 0;     // whole samples per chunk (1 when a sample is tiled)
  int64_t tile = 0;              // input positions per chunk and sample (all S if untiled)
  int64_t input_positions = 0;   // S: input positions per sample and channel
  int64_t chunks = 0;            // chunks planned, tail chunks included
  bool packed = false;           // channels-first X (and dX) copied into a chunk buffer
  bool group_parallel = false;   // each thread took whole groups, not shares of one
  bool direct = false;           // one input channel per group: products formed directly
};

}  // namespace deconv

#ifdef _OPENMP
#include <omp.h>
#endif

namespace deconv {

// The most threads a call may ask for: far more than any machine has cores, far fewer
// than would exhaust the stack libgomp uses to start a team (1e5 threads crashed it).
inline int thread_limit() {
#ifdef _OPENMP
  const int omp_limit = omp_get_thread_limit();
  return omp_limit < 1024 ? omp_limit : 1024;
#else
  return 1;
#endif
}

// `requested` threads, or OpenMP's default when it is 0 or less.
inline int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

// This thread's number in the current OpenMP team, and the team's size (0 and 1
// outside a parallel region or without OpenMP).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace deconv
