// Row-major GEMM for the CPU kernels: C = alpha * op(A) * op(B) + beta * C, on the
// calling thread. Uses the process's optimized BLAS (OpenBLAS, MKL or BLIS, found at
// run time, so no link-time BLAS is needed), our AVX-512 GEMM where the CPU has
// AVX-512 and that BLAS does not use it (or there is none), else Eigen. The kernels
// thread around it.
#pragma once

#include <cstdint>
#include <string>

#include "core/run_options.h"

namespace deconv {
namespace cpu {

enum class GemmBackend { Blas, Avx512, Eigen };

// The backend GEMMs of T use, chosen once per process (gemm.cpp says how);
// DECONV_GEMM=blas, avx512 or eigen in the environment asks for one.
template <typename T>
GemmBackend gemm_backend();
std::string gemm_backend_name(GemmBackend b);

// Whether `b` can run GEMMs of T in this process (built in, CPU support, BLAS loaded).
template <typename T>
bool gemm_backend_available(GemmBackend b);

// Pins an optimized BLAS to one thread while it lives (restoring the old count), so
// that BLAS calls made from OpenMP threads do not start threads of their own.
class SerialBlas {
 public:
  // `needed` false leaves the BLAS as it is: for a call on one thread too small for the
  // BLAS to thread (setting and restoring its count costs more than such GEMMs).
  explicit SerialBlas(bool needed = true);
  ~SerialBlas();
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int old_ = -1;
};

// Splits C = op(A) op(B) + beta C into `parts` blocks of rows or columns (never along
// k, so blocks are independent) and computes block `part` on the calling thread. With
// `poll`, a large block is computed in sub-blocks of tens of ms, polling between them;
// once poll reports an interrupt the rest is skipped (C is then left incomplete).
template <typename T>
void gemm_part(int part, int parts, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
               GemmBackend backend, InterruptPoll* poll = nullptr);

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmBackend backend);

}  // namespace cpu
}  // namespace deconv
