// Row-major GEMM for the CPU kernels: C = alpha * op(A) * op(B) + beta * C, on the
// calling thread. Uses the process's optimized BLAS (OpenBLAS, MKL or BLIS, found at
// run time, so no link-time BLAS is needed), else Eigen. The kernels thread around it.
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

// Pins an optimized BLAS to one thread while it lives (restoring the old count), so
// that BLAS calls made from OpenMP threads do not start threads of their own.
class SerialBlas {
 public:
  SerialBlas();
  ~SerialBlas();
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int old_ = -1;
};

// Splits C = op(A) op(B) + beta C into `parts` blocks of rows or columns (never along
// k, so blocks are independent) and computes block `part` on the calling thread.
template <typename T>
void gemm_part(int part, int parts, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
               GemmBackend backend);

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmBackend backend);

}  // namespace cpu
}  // namespace deconv
