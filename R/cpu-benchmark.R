# Best seconds of an n x n x n GEMM through the GEMM backend and threading the CPU
# kernels use (deconv_info()$gemm names it): the peak inst/bench/bench.R divides by.
gemm_benchmark <- function(n = 2048, reps = 5L, threads = deconv_threads(),
                           dtype = c("float64", "float32")) {
  dtype <- match.arg(dtype)
  if (!is.numeric(n) || length(n) != 1 || is.na(n) || n < 1 || n > 16384 || n != round(n))
    deconv_abort("n", "expected one whole number in [1, 16384]", call = sys.call())
  cpp_gemm_benchmark(n, as.integer(reps), as.integer(threads), dtype)
}
