// A single-threaded row-major GEMM written for AVX-512 (packed panels, a 14-row by
// 2-vector register tile), for CPUs whose optimized BLAS is not itself using AVX-512.
// gemm_avx512.cpp is the only file compiled with AVX-512 flags; call it only after
// avx512_usable() (gemm.cpp, compiled for plain x86-64) said the CPU can run it.
#pragma once

#include <cstdint>

namespace deconv {
namespace cpu {

// C = alpha * op(A) * op(B) + beta * C, all row-major; op(X) is X^T when trans_x.
// With `stop`, stop(stop_arg) is called between blocks of rows (a millisecond or so of
// work each) and the GEMM returns, C incomplete, once it returns true. (A plain function
// pointer: this file's inline code must not be shared with other translation units.)
template <typename T>
void gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                 const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
                 bool (*stop)(void*) = nullptr, void* stop_arg = nullptr);

}  // namespace cpu
}  // namespace deconv
