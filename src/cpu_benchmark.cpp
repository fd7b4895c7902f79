// Rcpp entry point behind the internal gemm_benchmark() (the benchmark's GEMM peak).
#include <Rcpp.h>

#include <string>

#include "core/cpu/gemm_timing.h"

// [[Rcpp::export(rng = false)]]
double cpp_gemm_benchmark(double n, int reps, int threads, std::string dtype) {
  const auto size = static_cast<int64_t>(n);
  return dtype == "float32" ? deconv::cpu::gemm_best_seconds<float>(size, reps, threads)
                            : deconv::cpu::gemm_best_seconds<double>(size, reps, threads);
}
