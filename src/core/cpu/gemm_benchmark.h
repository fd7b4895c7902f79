// The GEMM peak the benchmark divides by: a square GEMM through exactly the backend and
// threading the CPU kernels use, so "% of GEMM peak" compares like with like.
#pragma once

#include <cstdint>

namespace deconv {
namespace cpu {

// Best of `reps` timings, in seconds, of C = A B with n x n matrices, through
// gemm_backend<T>(), split over `threads` OpenMP threads with gemm_part as the kernels
// split theirs (threads <= 0: the default count). One untimed run comes first.
template <typename T>
double gemm_best_seconds(int64_t n, int reps, int threads);

}  // namespace cpu
}  // namespace deconv
