#include "core/cpu/gemm_benchmark.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/run_options.h"

namespace deconv {
namespace cpu {

template <typename T>
double gemm_best_seconds(int64_t n, int reps, int threads) {
  const int nt = resolve_threads(threads);
  const size_t elems = static_cast<size_t>(n) * static_cast<size_t>(n);
  std::vector<T> a(elems), b(elems), c(elems);
  for (size_t i = 0; i < elems; ++i) {  // fixed values of either sign, no denormals
    a[i] = static_cast<T>(static_cast<double>(i * 7919 % 1000) / 1000.0 - 0.5);
    b[i] = static_cast<T>(static_cast<double>(i * 104729 % 1000) / 1000.0 - 0.5);
  }
  const GemmBackend backend = gemm_backend<T>();
  const SerialBlas serial_blas;
  auto run = [&] {
#pragma omp parallel num_threads(nt) if (nt > 1)
    gemm_part<T>(thread_id(), team_size(), false, false, n, n, n, a.data(), n, b.data(), n,
                 T(0), c.data(), n, backend);
  };
  run();
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(reps, 1); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

template double gemm_best_seconds<float>(int64_t, int, int);
template double gemm_best_seconds<double>(int64_t, int, int);

}  // namespace cpu
}  // namespace deconv
