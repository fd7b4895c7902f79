// GEMM peak probes for inst/bench/bench.R, compiled at run time with Rcpp::sourceCpp and
// the package's own compiler flags, so the Eigen numbers are what the package's Eigen
// GEMM can reach on this machine. The BLAS probes call the BLAS that R itself loaded
// (looked up with dlsym, so nothing is linked here); they return NA when it lacks them.
// Part of the benchmark only: not built into the package.

// [[Rcpp::depends(RcppEigen)]]
#include <RcppEigen.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

template <typename T>
double eigen_best(int n, int reps, int threads) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::setNbThreads(threads);
  Mat a = Mat::Random(n, n), b = Mat::Random(n, n), c(n, n);
  c.noalias() = a * b;  // warm-up
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    c.noalias() = a * b;
    best = std::min(best, now_s() - t0);
  }
  Eigen::setNbThreads(0);  // back to the default (OpenMP's); the package sets its own
  if (!(c(0, 0) == c(0, 0))) Rcpp::stop("NaN in GEMM result");
  return best;
}

typedef void (*gemm_fn)(const char*, const char*, const int*, const int*, const int*,
                        const void*, const void*, const int*, const void*, const int*,
                        const void*, void*, const int*, size_t, size_t);

template <typename T>
double blas_best(const char* symbol, int n, int reps) {
  void* f = dlsym(RTLD_DEFAULT, symbol);
  if (f == nullptr) return NA_REAL;
  gemm_fn gemm = reinterpret_cast<gemm_fn>(f);
  std::vector<T> a(static_cast<size_t>(n) * n), b(a.size()), c(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<T>((i * 7919 % 1000) / 1000.0 - 0.5);
    b[i] = static_cast<T>((i * 104729 % 1000) / 1000.0 - 0.5);
  }
  const T one = 1, zero = 0;
  auto run = [&]() {
    gemm("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n, 1, 1);
  };
  run();  // warm-up
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    run();
    best = std::min(best, now_s() - t0);
  }
  return best;
}

}  // namespace

// Best time in seconds of an n x n x n Eigen GEMM with `threads` threads.
// [[Rcpp::export]]
double bench_eigen_gemm(int n, int reps, int threads, bool single) {
  return single ? eigen_best<float>(n, reps, threads) : eigen_best<double>(n, reps, threads);
}

// Best time in seconds of an n x n x n sgemm/dgemm through R's BLAS; NA if absent.
// [[Rcpp::export]]
double bench_blas_gemm(int n, int reps, bool single) {
  return single ? blas_best<float>("sgemm_", n, reps) : blas_best<double>("dgemm_", n, reps);
}

// Sets OpenBLAS's thread count when n > 0 and returns the count it had before; NA when
// R's BLAS is not OpenBLAS.
// [[Rcpp::export]]
int bench_blas_threads(int n) {
  typedef void (*set_fn)(int);
  typedef int (*get_fn)();
  void* set = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  void* get = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
  if (set == nullptr || get == nullptr) return NA_INTEGER;
  const int old = reinterpret_cast<get_fn>(get)();
  if (n > 0) reinterpret_cast<set_fn>(set)(n);
  return old;
}

// What the BLAS says it is (OpenBLAS only), or "".
// [[Rcpp::export]]
std::string bench_blas_config() {
  typedef char* (*cfg_fn)();
  void* f = dlsym(RTLD_DEFAULT, "openblas_get_config");
  if (f == nullptr) return "";
  const char* s = reinterpret_cast<cfg_fn>(f)();
  return s ? std::string(s) : std::string();
}

// Eigen's version and the SIMD instruction sets this compilation enabled.
// [[Rcpp::export]]
std::string bench_eigen_info() {
  std::string s = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                  std::to_string(EIGEN_MAJOR_VERSION) + "." +
                  std::to_string(EIGEN_MINOR_VERSION) + ", SIMD: " +
                  Eigen::SimdInstructionSetsInUse();
#ifdef _OPENMP
  s += ", OpenMP";
#else
  s += ", no OpenMP";
#endif
  return s;
}
