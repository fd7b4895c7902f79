// GEMM dispatch: Fortran BLAS looked up with dlsym (row-major computed as the
// column-major transpose), our AVX-512 GEMM, or Eigen maps.
#include "core/cpu/gemm.h"

#include "core/cpu/gemm_avx512.h"

#include <dlfcn.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <Eigen/Core>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>

namespace deconv {
namespace cpu {

namespace {

using dgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*,
                         const double*, const double*, const int*, const double*, const int*,
                         const double*, double*, const int*, size_t, size_t);
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*,
                         const float*, const float*, const int*, const float*, const int*,
                         const float*, float*, const int*, size_t, size_t);
using set_threads_t = void (*)(int);
using get_threads_t = int (*)();

struct Blas {
  dgemm_t dgemm = nullptr;
  sgemm_t sgemm = nullptr;
  set_threads_t set_threads = nullptr;
  get_threads_t get_threads = nullptr;
  const char* name = nullptr;  // null: no optimized BLAS loaded
};

// Libraries worth calling, each known by a symbol only it exports. The reference BLAS
// is far slower than Eigen, so it is not among them.
struct BlasLibrary {
  const char* name;
  const char* probe;
  const char* set_threads;
  const char* get_threads;  // may be null
};
constexpr BlasLibrary kLibraries[] = {
    {"OpenBLAS", "openblas_get_config", "openblas_set_num_threads", "openblas_get_num_threads"},
    {"MKL", "MKL_Get_Max_Threads", "MKL_Set_Num_Threads", "MKL_Get_Max_Threads"},
    {"BLIS", "bli_info_get_version_str", "bli_thread_set_num_threads", nullptr},
};

const Blas& blas() {
  static Blas b;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const BlasLibrary& lib : kLibraries) {
      if (!dlsym(RTLD_DEFAULT, lib.probe)) continue;
      b.name = lib.name;
      b.set_threads = reinterpret_cast<set_threads_t>(dlsym(RTLD_DEFAULT, lib.set_threads));
      if (lib.get_threads)
        b.get_threads = reinterpret_cast<get_threads_t>(dlsym(RTLD_DEFAULT, lib.get_threads));
      b.dgemm = reinterpret_cast<dgemm_t>(dlsym(RTLD_DEFAULT, "dgemm_"));
      b.sgemm = reinterpret_cast<sgemm_t>(dlsym(RTLD_DEFAULT, "sgemm_"));
      return;
    }
  });
  return b;
}

// Whether the loaded BLAS has the GEMM routine for T.
template <typename T>
bool blas_has_gemm() {
  if constexpr (std::is_same<T, double>::value) return blas().dgemm != nullptr;
  else return blas().sgemm != nullptr;
}

// Whether this build has gemm_avx512 and the running CPU and OS can execute it.
bool avx512_usable() {
#if defined(DECONV_HAVE_AVX512_GEMM) && (defined(__GNUC__) || defined(__clang__))
  static const bool usable = __builtin_cpu_supports("avx512f") != 0;
  return usable;
#else
  return false;
#endif
}

// OpenBLAS reports the kernels it picked for this CPU. Its AVX-512 ones (SkylakeX and
// later) match our AVX-512 GEMM; older ones (Haswell, picked e.g. for AMD Zen 4/5 by
// OpenBLAS before 0.3.22) reach half of it. MKL and BLIS choose their own kernels
// per CPU, so they are kept.
bool blas_lacks_avx512() {
  if (!blas().name || std::strcmp(blas().name, "OpenBLAS") != 0) return false;
  using corename_t = char* (*)();
  auto corename = reinterpret_cast<corename_t>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!corename) return false;
  std::string core = corename();
  for (char& ch : core) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* avx512 : {"skylakex", "cooperlake", "sapphirerapids"})
    if (core.find(avx512) != std::string::npos) return false;
  return true;
}

// DECONV_GEMM=blas|avx512|eigen asks for a backend; one this process cannot run is
// replaced by the automatic choice.
template <typename T>
GemmBackend choose_backend() {
  const bool have_blas = blas_has_gemm<T>();
  const char* env = std::getenv("DECONV_GEMM");
  const std::string want = env ? env : "";
  if (want == "eigen") return GemmBackend::Eigen;
  if (want == "blas" && have_blas) return GemmBackend::Blas;
  if (want == "avx512" && avx512_usable()) return GemmBackend::Avx512;
  if (avx512_usable() && (!have_blas || blas_lacks_avx512())) return GemmBackend::Avx512;
  return have_blas ? GemmBackend::Blas : GemmBackend::Eigen;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT32_MAX; }

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename T>
void eigen_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  using Map = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
  Map A(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  Map B(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  // Inside a parallel region Eigen runs serially by itself; outside, make it so.
  bool serial_context = true;
#ifdef _OPENMP
  serial_context = !omp_in_parallel();
#endif
  if (serial_context) Eigen::setNbThreads(1);
  if (beta == T(0)) C.setZero();
  else if (beta != T(1)) C *= beta;
  if (ta && tb) C.noalias() += alpha * (A.transpose() * B.transpose());
  else if (ta) C.noalias() += alpha * (A.transpose() * B);
  else if (tb) C.noalias() += alpha * (A * B.transpose());
  else C.noalias() += alpha * (A * B);
}

template <typename T>
void call_blas(bool ta, bool tb, int m, int n, int k, T alpha, const T* a, int lda, const T* b,
               int ldb, T beta, T* c, int ldc) {
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T.
  const char opa = ta ? 'T' : 'N', opb = tb ? 'T' : 'N';
  if constexpr (std::is_same<T, double>::value) {
    blas().dgemm(&opb, &opa, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc, 1, 1);
  } else {
    blas().sgemm(&opb, &opa, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc, 1, 1);
  }
}

}  // namespace

template <typename T>
GemmBackend gemm_backend() {
  static const GemmBackend backend = choose_backend<T>();
  return backend;
}

template <typename T>
bool gemm_backend_available(GemmBackend b) {
  switch (b) {
    case GemmBackend::Blas: return blas_has_gemm<T>();
    case GemmBackend::Avx512: return avx512_usable();
    case GemmBackend::Eigen: break;
  }
  return true;
}

std::string gemm_backend_name(GemmBackend b) {
  switch (b) {
    case GemmBackend::Blas: return blas().name ? blas().name : "BLAS";
    case GemmBackend::Avx512: return "deconv AVX-512";
    case GemmBackend::Eigen: break;
  }
  return "Eigen";
}

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmBackend backend) {
  if (m == 0 || n == 0) return;
  if (backend == GemmBackend::Avx512 && avx512_usable()) {
#ifdef DECONV_HAVE_AVX512_GEMM
    gemm_avx512<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
#endif
  }
  if (backend == GemmBackend::Blas && fits_int(m) && fits_int(n) && fits_int(k) &&
      fits_int(lda) && fits_int(ldb) && fits_int(ldc) && blas_has_gemm<T>()) {
    call_blas<T>(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                 static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
    return;
  }
  eigen_gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

SerialBlas::SerialBlas(bool needed) {
  const Blas& b = blas();
  if (needed && b.set_threads && b.get_threads) {
    old_ = b.get_threads();
    if (old_ != 1) b.set_threads(1);
    else old_ = -1;
  }
}

SerialBlas::~SerialBlas() {
  if (old_ > 0) blas().set_threads(old_);
}

namespace {

// Our AVX-512 GEMM polls between its own blocks of rows, at no cost. Other backends are
// called on sub-blocks of about kBlockFlopBytes / sizeof(T) flops (2^29 in float: ~10
// ms), cut first along k in multiples of kSlab (no deeper than those backends' own
// k-blocks, so nothing is added), then along n in panels of kPanelBytes and along m, not
// below kMinRows rows: each n-block packs its part of op(A) again, each m-block its part
// of op(B), a cost of about 1/(2 * rows) packed values per flop.
constexpr double kBlockFlopBytes = double(int64_t(1) << 31);
constexpr int64_t kSlab = 512;
constexpr int64_t kPanelBytes = 8192;
constexpr int64_t kMinRows = 512;

int64_t round_up(double v, int64_t step) {
  return static_cast<int64_t>(std::ceil(v / static_cast<double>(step))) * step;
}

bool poll_stops(void* poll) { return static_cast<InterruptPoll*>(poll)->poll(); }

template <typename T>
void gemm_blocks(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
                 const T* b, int64_t ldb, T beta, T* c, int64_t ldc, GemmBackend backend,
                 InterruptPoll& poll) {
  const double target = kBlockFlopBytes / sizeof(T);
  auto flops = [](int64_t mm, int64_t nn, int64_t kk) { return 2.0 * mm * nn * kk; };
  int64_t kb = k, nb = n, mb = m;
  if (flops(mb, nb, kb) > target)
    kb = std::min(k, std::max(kSlab, round_up(target / flops(mb, nb, 1), kSlab)));
  const int64_t panel = kPanelBytes / static_cast<int64_t>(sizeof(T));
  if (flops(mb, nb, kb) > target)
    nb = std::min(n, std::max(panel, round_up(target / flops(mb, 1, kb), panel)));
  if (flops(mb, nb, kb) > target)
    mb = std::min(m, std::max(kMinRows, round_up(target / flops(1, nb, kb), 1)));
  // n outermost and k next, as the AVX-512 GEMM loops; m-blocks reuse cached op(B).
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    for (int64_t p0 = 0; p0 < k; p0 += kb) {
      for (int64_t i0 = 0; i0 < m; i0 += mb) {
        if (poll.poll()) return;
        const T* ab = ta ? a + p0 * lda + i0 : a + i0 * lda + p0;
        const T* bb = tb ? b + j0 * ldb + p0 : b + p0 * ldb + j0;
        gemm<T>(ta, tb, std::min(mb, m - i0), std::min(nb, n - j0), std::min(kb, k - p0), T(1),
                ab, lda, bb, ldb, p0 == 0 ? beta : T(1), c + i0 * ldc + j0, ldc, backend);
      }
    }
  }
}

}  // namespace

template <typename T>
void gemm_part(int part, int parts, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
               GemmBackend backend, InterruptPoll* poll) {
  if (parts > 1 && m >= n) {  // blocks of rows of C: rows of op(A)
    const int64_t r0 = m * part / parts, r1 = m * (part + 1) / parts;
    a = ta ? a + r0 : a + r0 * lda;
    c += r0 * ldc;
    m = r1 - r0;
  } else if (parts > 1) {     // blocks of columns of C: columns of op(B)
    const int64_t c0 = n * part / parts, c1 = n * (part + 1) / parts;
    b = tb ? b + c0 * ldb : b + c0;
    c += c0;
    n = c1 - c0;
  }
  if (!poll || m <= 0 || n <= 0) {
    gemm<T>(ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc, backend);
  } else if (backend == GemmBackend::Avx512 && avx512_usable()) {
#ifdef DECONV_HAVE_AVX512_GEMM
    gemm_avx512<T>(ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc, poll_stops, poll);
#endif
  } else {
    gemm_blocks<T>(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc, backend, *poll);
  }
}

template void gemm_part<float>(int, int, bool, bool, int64_t, int64_t, int64_t, const float*,
                               int64_t, const float*, int64_t, float, float*, int64_t,
                               GemmBackend, InterruptPoll*);
template void gemm_part<double>(int, int, bool, bool, int64_t, int64_t, int64_t, const double*,
                                int64_t, const double*, int64_t, double, double*, int64_t,
                                GemmBackend, InterruptPoll*);
template bool gemm_backend_available<float>(GemmBackend);
template bool gemm_backend_available<double>(GemmBackend);
template GemmBackend gemm_backend<float>();
template GemmBackend gemm_backend<double>();
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t, GemmBackend);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t, GemmBackend);

}  // namespace cpu
}  // namespace deconv
