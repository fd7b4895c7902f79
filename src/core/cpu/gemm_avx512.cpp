// AVX-512 GEMM (see gemm_avx512.h). Compiled with -mavx512f -mfma and nothing else of
// the package is, so no AVX-512 instruction runs unless gemm.cpp dispatched here.
//
// Goto/BLIS blocking: op(B) is packed in kKc x nc() blocks (panels of nr() columns, each
// k-row contiguous), op(A) in kMc x kKc blocks (panels of kMr rows, each k-column
// contiguous). The micro-kernel keeps a kMr x nr() tile of C in 28 zmm registers and,
// per k, loads two vectors of B and broadcasts kMr values of A. The B panel it sweeps
// stays in L1 while A panels stream from L2. Tails are zero-padded in the packs and
// masked when C is stored.
#include "core/cpu/gemm_avx512.h"

#ifndef __AVX512F__
#error "gemm_avx512.cpp must be compiled with -mavx512f -mfma (see src/Makevars.in)"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace deconv {
namespace cpu {

namespace {

template <typename T>
struct Simd;

template <>
struct Simd<float> {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_load_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V load_masked(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store_masked(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static Mask first(int count) {
    return count >= kLanes ? Mask(0xFFFF) : Mask((1u << std::max(count, 0)) - 1);
  }
};

template <>
struct Simd<double> {
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int kLanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_load_pd(p); }
  static V broadcast(const double* p) { return _mm512_set1_pd(*p); }
  static V set1(double v) { return _mm512_set1_pd(v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V load_masked(Mask m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store_masked(double* p, Mask m, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static Mask first(int count) {
    return count >= kLanes ? Mask(0xFF) : Mask((1u << std::max(count, 0)) - 1);
  }
};

constexpr int kMr = 14;  // rows of the register tile: 28 accumulators, 3 zmm to spare
constexpr int kNv = 2;   // vectors per row of the tile
// Measured on Zen 5 (2048-square and the benchmark's GEMM shapes): a deep kKc amortizes
// the C tile's loads and stores; kKc 256 was 5-10 % slower, 384 in between.
constexpr int64_t kKc = 512;
constexpr int64_t kMc = 10 * kMr;

template <typename T>
constexpr int64_t nr() {
  return kNv * Simd<T>::kLanes;
}
template <typename T>
constexpr int64_t nc() {
  return 64 * nr<T>();
}

// Thread-local 64-byte aligned buffer for the packs, kept between calls.
template <typename T>
T* pack_buffer(size_t elems) {
  struct Buffer {
    T* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  static thread_local Buffer buf;
  if (buf.size < elems) {
    std::free(buf.data);
    buf.data = nullptr;
    buf.size = 0;
    const size_t bytes = (elems * sizeof(T) + 63) / 64 * 64;
    buf.data = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!buf.data) throw std::bad_alloc();
    buf.size = elems;
  }
  return buf.data;
}

// Packs op(B)[k0 : k0 + kc, j0 : j0 + ncols] as panels of nr columns, zero-padded.
template <typename T>
void pack_b(bool tb, const T* b, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t ncols,
            T* out) {
  constexpr int64_t w = nr<T>();
  for (int64_t jp = 0; jp < ncols; jp += w, out += kc * w) {
    const int64_t cols = std::min(w, ncols - jp);
    if (!tb) {
      for (int64_t kk = 0; kk < kc; ++kk) {
        T* dst = out + kk * w;
        std::copy_n(b + (k0 + kk) * ldb + j0 + jp, cols, dst);
        std::fill(dst + cols, dst + w, T(0));
      }
    } else {  // read each column of op(B) contiguously
      for (int64_t j = 0; j < w; ++j) {
        T* dst = out + j;
        if (j < cols) {
          const T* src = b + (j0 + jp + j) * ldb + k0;
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * w] = src[kk];
        } else {
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * w] = T(0);
        }
      }
    }
  }
}

// Packs op(A)[i0 : i0 + rows, k0 : k0 + kc] as panels of kMr rows, zero-padded.
template <typename T>
void pack_a(bool ta, const T* a, int64_t lda, int64_t i0, int64_t rows, int64_t k0, int64_t kc,
            T* out) {
  for (int64_t ip = 0; ip < rows; ip += kMr, out += kc * kMr) {
    const int64_t r = std::min<int64_t>(kMr, rows - ip);
    if (ta) {
      for (int64_t kk = 0; kk < kc; ++kk) {
        const T* src = a + (k0 + kk) * lda + i0 + ip;
        T* dst = out + kk * kMr;
        std::copy_n(src, r, dst);
        std::fill(dst + r, dst + kMr, T(0));
      }
    } else {
      for (int64_t i = 0; i < kMr; ++i) {
        T* dst = out + i;
        if (i < r) {
          const T* src = a + (i0 + ip + i) * lda + k0;
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * kMr] = src[kk];
        } else {
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * kMr] = T(0);
        }
      }
    }
  }
}

// C[0:rows, 0:cols] = alpha * Ap Bp + beta * C (beta 0: C is not read).
template <typename T>
void micro_kernel(int64_t kc, const T* ap, const T* bp, T* c, int64_t ldc, int rows, int cols,
                  T alpha, T beta) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int L = S::kLanes;
  V acc[kMr][kNv];
  // Rows of C often lie a multiple of 4 KiB apart, so they contend for one L1 set:
  // fetching them early hides that (measured 3-15 % faster).
  for (int r = 0; r < rows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + L), _MM_HINT_T0);
  }
#pragma GCC unroll 14
  for (int r = 0; r < kMr; ++r) {
    acc[r][0] = S::zero();
    acc[r][1] = S::zero();
  }
  for (int64_t kk = 0; kk < kc; ++kk) {
    const V b0 = S::load(bp), b1 = S::load(bp + L);
#pragma GCC unroll 14
    for (int r = 0; r < kMr; ++r) {
      const V av = S::broadcast(ap + r);
      acc[r][0] = S::fma(av, b0, acc[r][0]);
      acc[r][1] = S::fma(av, b1, acc[r][1]);
    }
    ap += kMr;
    bp += kNv * L;
  }
  const typename S::Mask m0 = S::first(cols), m1 = S::first(cols - L);
  const V va = S::set1(alpha), vb = S::set1(beta);
#pragma GCC unroll 14
  for (int r = 0; r < kMr; ++r) {
    if (r >= rows) break;
    T* cr = c + r * ldc;
    V v0 = S::mul(va, acc[r][0]), v1 = S::mul(va, acc[r][1]);
    if (beta != T(0)) {
      v0 = S::fma(vb, S::load_masked(m0, cr), v0);
      v1 = S::fma(vb, S::load_masked(m1, cr + L), v1);
    }
    S::store_masked(cr, m0, v0);
    S::store_masked(cr + L, m1, v1);
  }
}

}  // namespace

template <typename T>
void gemm_avx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
                 bool (*stop)(void*), void* stop_arg) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  constexpr int64_t w = nr<T>();
  const int64_t kc_max = std::min(k, kKc);
  const int64_t nc_max = (std::min(n, nc<T>()) + w - 1) / w * w;
  const int64_t mc_max = (std::min(m, kMc) + kMr - 1) / kMr * kMr;
  T* bpack = pack_buffer<T>(static_cast<size_t>(kc_max * (nc_max + mc_max)));
  T* apack = bpack + kc_max * nc_max;
  for (int64_t j0 = 0; j0 < n; j0 += nc<T>()) {
    const int64_t ncols = std::min(nc<T>(), n - j0);
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = std::min(kKc, k - k0);
      const T beta_k = k0 == 0 ? beta : T(1);
      pack_b(tb, b, ldb, k0, kc, j0, ncols, bpack);
      for (int64_t i0 = 0; i0 < m; i0 += kMc) {
        if (stop && stop(stop_arg)) return;
        const int64_t rows = std::min(kMc, m - i0);
        pack_a(ta, a, lda, i0, rows, k0, kc, apack);
        for (int64_t jp = 0; jp < ncols; jp += w) {
          const int cols = static_cast<int>(std::min(w, ncols - jp));
          for (int64_t ip = 0; ip < rows; ip += kMr) {
            const int r = static_cast<int>(std::min<int64_t>(kMr, rows - ip));
            micro_kernel<T>(kc, apack + ip * kc, bpack + jp * kc, c + (i0 + ip) * ldc + j0 + jp,
                            ldc, r, cols, alpha, beta_k);
          }
        }
      }
    }
  }
}

template void gemm_avx512<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t,
                                 bool (*)(void*), void*);
template void gemm_avx512<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t,
                                  bool (*)(void*), void*);

}  // namespace cpu
}  // namespace deconv
