// The GEMM dispatch (core/cpu/gemm.h) on every backend this process can run: BLAS, the
// AVX-512 GEMM and Eigen, each against a long-double loop over shapes that cross the
// AVX-512 GEMM's register tile (14 x 2 vectors) and block sizes (k 512, m 140, n 64
// tiles), with every transpose, alpha, beta and padded leading dimensions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu/gemm.h"

namespace {

using deconv::cpu::GemmBackend;

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  double alpha, beta;
};

template <typename T>
void check_case(GemmBackend backend, const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  const int64_t lda = (c.ta ? c.m : c.k) + 3, ldb = (c.tb ? c.k : c.n) + 1, ldc = c.n + 2;
  std::vector<T> a((c.ta ? c.k : c.m) * lda), b((c.tb ? c.n : c.k) * ldb), cm(c.m * ldc);
  for (T& v : a) v = static_cast<T>(u(rng));
  for (T& v : b) v = static_cast<T>(u(rng));
  // beta 0 must not read C: NaNs there would show through.
  for (T& v : cm) v = c.beta == 0 ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(u(rng));
  const std::vector<T> c0 = cm;
  deconv::cpu::gemm<T>(c.ta, c.tb, c.m, c.n, c.k, static_cast<T>(c.alpha), a.data(), lda,
                       b.data(), ldb, static_cast<T>(c.beta), cm.data(), ldc, backend);
  const double tol = std::is_same<T, float>::value ? 2e-6 : 1e-14;
  int64_t bad = 0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const T got = cm[i * ldc + j];
      if (j >= c.n) {  // padding between rows stays as it was
        if (!(got == c0[i * ldc + j] || (std::isnan(got) && std::isnan(c0[i * ldc + j])))) ++bad;
        continue;
      }
      long double sum = 0, mag = 0;
      for (int64_t q = 0; q < c.k; ++q) {
        const long double x = c.ta ? a[q * lda + i] : a[i * lda + q];
        const long double y = c.tb ? b[j * ldb + q] : b[q * ldb + j];
        sum += x * y;
        mag += std::fabs(static_cast<double>(x * y));
      }
      const long double old = c.beta == 0 ? 0 : static_cast<long double>(c0[i * ldc + j]);
      const long double want = c.alpha * sum + c.beta * old;
      const double scale = std::fabs(c.alpha) * static_cast<double>(mag) +
                           std::fabs(c.beta * static_cast<double>(old)) + 1e-30;
      if (!(std::fabs(static_cast<double>(got - want)) <= tol * scale * (1 + c.k / 64.0))) {
        if (bad++ < 3)
          ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", want "
                        << static_cast<double>(want);
      }
    }
  }
  EXPECT_EQ(bad, 0) << "ta=" << c.ta << " tb=" << c.tb << " m=" << c.m << " n=" << c.n
                    << " k=" << c.k << " alpha=" << c.alpha << " beta=" << c.beta;
}

template <typename T>
void check_backend(GemmBackend backend) {
  if (!deconv::cpu::gemm_backend_available<T>(backend))
    GTEST_SKIP() << deconv::cpu::gemm_backend_name(backend) << " cannot run here";
  std::mt19937 rng(42);
  // Edges of the tile and blocks: 14 rows, 32 floats / 16 doubles per tile row, k 512,
  // m blocks of 140, n blocks of 64 tiles.
  const int64_t ms[] = {1, 13, 14, 15, 141, 283};
  const int64_t ns[] = {1, 15, 16, 17, 33, 1030, 2051};
  const int64_t ks[] = {1, 7, 511, 513, 1100};
  const double alphas[] = {1, 0.5}, betas[] = {0, 1, -0.75};
  int index = 0;
  for (int64_t m : ms)
    for (int64_t n : ns)
      for (int64_t k : ks) {
        if (m * n * k > 40'000'000) continue;  // keep the loop reference quick
        const int t = index++;
        check_case<T>(backend, {(t & 1) != 0, (t & 2) != 0, m, n, k, alphas[t % 2],
                                betas[(t / 4) % 3]}, rng);
      }
  for (int t = 0; t < 4; ++t)  // every transpose on one shape with all tails
    check_case<T>(backend, {(t & 1) != 0, (t & 2) != 0, 29, 45, 515, 1, 1}, rng);
}

class GemmBackends : public ::testing::TestWithParam<GemmBackend> {};

TEST_P(GemmBackends, FloatMatchesLoop) { check_backend<float>(GetParam()); }
TEST_P(GemmBackends, DoubleMatchesLoop) { check_backend<double>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(All, GemmBackends,
                         ::testing::Values(GemmBackend::Blas, GemmBackend::Avx512,
                                           GemmBackend::Eigen),
                         [](const ::testing::TestParamInfo<GemmBackend>& info) {
                           switch (info.param) {
                             case GemmBackend::Blas: return std::string("Blas");
                             case GemmBackend::Avx512: return std::string("Avx512");
                             default: return std::string("Eigen");
                           }
                         });

// k = 0 (and alpha = 0) scales C by beta, as BLAS does.
TEST(Gemm, EmptyInnerDimensionScalesC) {
  for (GemmBackend b : {GemmBackend::Blas, GemmBackend::Avx512, GemmBackend::Eigen}) {
    if (!deconv::cpu::gemm_backend_available<double>(b)) continue;
    std::vector<double> c = {1, 2, 3, 4};
    deconv::cpu::gemm<double>(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 0.5, c.data(),
                              2, b);
    EXPECT_EQ(c, (std::vector<double>{0.5, 1, 1.5, 2})) << deconv::cpu::gemm_backend_name(b);
  }
}

// DECONV_GEMM=avx512 is honoured where the AVX-512 GEMM can run (ctest sets it for the
// "avx512_gemm." run of the kernel tests); the chosen backend is always available.
TEST(Gemm, ChosenBackendIsAvailable) {
  EXPECT_TRUE(deconv::cpu::gemm_backend_available<float>(deconv::cpu::gemm_backend<float>()));
  EXPECT_TRUE(deconv::cpu::gemm_backend_available<double>(deconv::cpu::gemm_backend<double>()));
}

}  // namespace
