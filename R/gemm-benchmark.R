# Best seconds of an n x n x n GEMM through the GEMM backend and threading the CPU
# kernels use (deconv_info()$gemm names it): the peak inst/bench/bench.R divides by.
# The C++ side checks n, reps, threads and dtype.
gemm_benchmark <- function(n = 2048, reps = 5L, threads = deconv_threads(),
                           dtype = "float64") {
  cpp_gemm_benchmark(n, reps, threads, dtype, call = sys.call())
}
