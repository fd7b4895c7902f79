// Row-major GEMM for the CPU kernels: C = alpha * op(A) * op(B) + beta * C.
// Uses the process's optimized BLAS (OpenBLAS, MKL or BLIS, found at run time, so no
// link-time BLAS is needed) with its own threads, else Eigen.
#pragma once

#include <cstdint>
#include <string>

namespace deconv {
namespace cpu {

enum class GemmBackend { Blas, Eigen };

// The backend big GEMMs use: an optimized BLAS when one is loaded and provides the
// routine for T, unless DECONV_GEMM=eigen is set in the environment.
template <typename T>
GemmBackend gemm_backend();
std::string gemm_backend_name(GemmBackend b);

// threads: how many threads this one call may use (BLAS's or Eigen's own threads);
// 1 when called from inside a parallel region.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmBackend backend,
          int threads);

}  // namespace cpu
}  // namespace deconv
